from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


# Poll ids become random BIGINTs drawn by the application (no AUTO_INCREMENT), and the
# two columns that reference them follow. MariaDB refuses to change a column a foreign
# key links, even with FOREIGN_KEY_CHECKS=0 (error 1832), so the two constraints are
# dropped, the three columns changed, and the constraints put back under the names
# Tortoise gave them in the first migration. Existing polls keep their ids. Edited by
# hand from aerich's output, which altered `polls.id` in place (error 1833).


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE `poll_options` DROP FOREIGN KEY `fk_poll_opt_polls_a80b90bd`;
        ALTER TABLE `ballots` DROP FOREIGN KEY `fk_ballots_polls_aa751c52`;
        ALTER TABLE `polls` MODIFY COLUMN `id` BIGINT NOT NULL;
        ALTER TABLE `poll_options` MODIFY COLUMN `poll_id` BIGINT NOT NULL;
        ALTER TABLE `ballots` MODIFY COLUMN `poll_id` BIGINT NOT NULL;
        ALTER TABLE `poll_options` ADD CONSTRAINT `fk_poll_opt_polls_a80b90bd`
            FOREIGN KEY (`poll_id`) REFERENCES `polls` (`id`) ON DELETE CASCADE;
        ALTER TABLE `ballots` ADD CONSTRAINT `fk_ballots_polls_aa751c52`
            FOREIGN KEY (`poll_id`) REFERENCES `polls` (`id`) ON DELETE CASCADE;
        ALTER TABLE `users` ADD INDEX `idx_users_is_gues_7a87d4` (`is_guest`, `created_at`);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    # Only while every poll id still fits an INT (no poll created since the upgrade).
    return """
        ALTER TABLE `users` DROP INDEX `idx_users_is_gues_7a87d4`;
        ALTER TABLE `poll_options` DROP FOREIGN KEY `fk_poll_opt_polls_a80b90bd`;
        ALTER TABLE `ballots` DROP FOREIGN KEY `fk_ballots_polls_aa751c52`;
        ALTER TABLE `polls` MODIFY COLUMN `id` INT NOT NULL AUTO_INCREMENT;
        ALTER TABLE `poll_options` MODIFY COLUMN `poll_id` INT NOT NULL;
        ALTER TABLE `ballots` MODIFY COLUMN `poll_id` INT NOT NULL;
        ALTER TABLE `poll_options` ADD CONSTRAINT `fk_poll_opt_polls_a80b90bd`
            FOREIGN KEY (`poll_id`) REFERENCES `polls` (`id`) ON DELETE CASCADE;
        ALTER TABLE `ballots` ADD CONSTRAINT `fk_ballots_polls_aa751c52`
            FOREIGN KEY (`poll_id`) REFERENCES `polls` (`id`) ON DELETE CASCADE;"""


MODELS_STATE = (
    "eJztXOtz2jgQ/1c8fEpvcp1AyONyn0hCr9wR6AR6r6bjCluAJkYilpyUu8v/fivZxm9qUy"
    "DE4294tavHb7XyrnbNv7UZM7HF337k2K5daP/WKJph+BGhH2o1NJ8HVEkQaGQpRgc4FAWN"
    "uLCRIYA4RhbHQDIxN2wyF4RRoFLHsiSRGcBI6CQgOZQ8OFgXbILFVE3k02cgE2rir5jLx0"
    "81wvWJg7mQQxk2RgKbOhK1z5Jxfq+PCbbMyAqIKVkVXReLuaJ1qHinGOU8RrrBLGdGA+b5"
    "QkwZXXITqkabYIptOR7QhO3Ihcl5ewD4a3XXELC4kw/JmHiMHEuEgBjpAa2m673+UB+0h7"
    "peKwCdwaiEHabK1eoncgo/NurNs+b58WnzHFjUNJeUs2d36AAYV1DB0xvWnlU7EsjlUOgH"
    "oEptq98JaK+myE7HNiwTQximHkfYxzMEsQfgniA8Q191C9OJmMLjcWMFnL+3bq/et24Pjh"
    "tv5IAMrMO1mZ7X0lBNEvEAYZPwuYUWelGU43IbQdpnCaAOTHvnWDePcmDdPMrEWjZFsZ4j"
    "zp+YbepTxKdFwE4Ilg/txslJDriBKxNv1RYFPHyIR7G+ZMzCiGacziGxGNIjkMsBdeKUzo"
    "P1krIFsFdge9nvd2XPM84fLEXoDGMYf7y5bN8e1BX0wEQEDh/fAd6C3WPK9UdkEXhbjoX7"
    "Mo8ifw2oCTLD6dCn9xBTgul18db/8fo2/wp9DDs37cGwdfMhopTr1rAtWxqKuohRD05jZr"
    "HsRPujM3yvyUft736vrdBkXExsNWLAN/y7JueEHMF0yp50ZIYx8ck+KaL1kHtUUNtRyQ1o"
    "eS272+YZBws0+9RaeDvwlajdM5aE1qXzO74PeWqSMELG/ROCl1OkJfTWY5brw8dOYE/s3W"
    "+32EIK2OQe8MKCD9DFK9T+s7/ffWqwCwJ4RsiymPhOgC5VJ2WFyMZj2LdT3X05fB9St25f"
    "Q9lVmfCSlsgaLMs2k02zxixOQRRN1JLk2HKksPmlROu+WWZH60vb33K0zp5Ai7obVYej9U"
    "PtEzjHSDhqEobFOObFw/hLMvnuSD7P3tqHUP6nRuP4+KxxdHx6ftI8Ozs5P1rG9MmmVcH9"
    "ZecX6SBGXk/fDvgN2ENFIiOff62AaM8UEImHTnNEQ/G3fxALncYjoQcZz3gHY15swzKbwf"
    "elvbEIwidHeQJ84MpEWbVFcb6HpaVj3KbOTOHcgTkhauAE3r7s7rCucYDL8meSF+/aoNP7"
    "pdu+0FzpO3rzsTvsfJCUGciTuddjQX2c59DGeaYuzuOakH0bU0YMnOIxDGbgMGWe6THRzR"
    "zuefRR3+7Zftw4O12e5vJh1fk9uGl1u8kQXzqaT4AOopOUg3rltUpctLpaKXC1Ak4rzJrr"
    "j4STEQG+xbrHTHpPOzx0LPJY+Mjpdn6H40VK3tHWu2H7Vr/q9gdAUndEuvLs7mj/jx609H"
    "vdvy401yVkMvZe4zCq13OcRvV65nEkm+IKfHCIjXVkGMyhRa8kU6Qr8ylgPkEQsI7JBNI7"
    "NBM2dyPUImZyfQvGcaGZNpgFmMOHdg8MAfq5o8pcri80ZSnmOiaxYY+0ujXMxr1ct4Zhrc"
    "vNuJbSI4JVPmCv8wHLa5aihh0WrHS89zpe6/AOC1Y63mcdjwlFFvlnLTXHZStN77Omw9fn"
    "OSvYwiK7uyDZ81K2RH40BnES33fMxmRCf8OLRASSnr/yKyRfGbpZeSsg2+hpmYeJbCtYPC"
    "wZuyHdVWtw1bpu157zpJyZmt8Gks79uc9TEryr1PPLp1L7/lRTE6rBlludVtVDm3yz2dVP"
    "bv/e2c44UZ18jiVdq0LoXRZCL9WQgHZ1KiMsV6bX9CZSGbBEbBVJiC4FSpgNbeTKhjZWZE"
    "MbyWzoIxNYz7juztyyUaHdbdqjvT4aovV0qb76qjKV8IleomNgB9UqK3z6uVf/9J0ufcmq"
    "G+MufWjrFfXot+mJeX5rihcWeLTZHljIdd6i8yU/ZZI/475XhInjhxeoZ3slDtkLl7O5Pj"
    "ooKiP1mJXrCEuV0dnYxsc+0g4KbXVPoHofFtzuoSwA4mKdHEAgVsLsbZkuhp25uWaSPipZ"
    "qXmv1VyFFC92hPouXgL6TNxDEmXCfVuJlypI20iQFt+zVSrrW5CG7HSf4t7IB3Ap0W/8A7"
    "nsGDj5Wd43Q+Fan2LNk9OUnMbGGtI45hw4tAOk/TBGM2ItfrjQMDKmms2ESkBp8DrjwGmz"
    "JxDUiHjzthZT10Y7v6N3VJbgaRCYa4P3rR8bJ6eyO/nIsWFjoRGucQGb3jzUOANpg80XLg"
    "u0KJRU7SXXKAMSnUCfLTWEFIQGoT1NYY5fHLcg5ouiQ78HalrY1GBvMe2LjecWMoBltPjy"
    "5mcYx12D5DYxMu8oAjEmFwFLoGoGRHA5ENemQIMOHgEMNcQhDElg4RabMEcAuwmAwfhqXN"
    "mFZSlYv/3NXXXhsJcXDu7eKHLZEEhs66KhTH+Xo46Vwv/fEpUq37eKzTyl4c3s2vBmHGb8"
    "dU7stWpIo5JV3LnXcWf1DUC2hZX3GwBnvcphp6obfnH15rLqkMNazBWMCa51u7Fnen2ZS6"
    "XA4y9qZFHJys722c6qq8MtXx1W91yv+J6rhW1iTGspN1xey+Gquy0U8Gzzn4uqItpdFtE+"
    "YpsX/A+ckEhVh5GvDkMaVQGEPfYSolvPVVJbX1FSW0+W1MKIAqfV0/466PcyYuVAJO7QEU"
    "No/2kW4a/x7b8CXAlGxI3zMT24af0Zh/uq27+M+2eyg8s072CXL7Pn/wHPOXSt"
)
