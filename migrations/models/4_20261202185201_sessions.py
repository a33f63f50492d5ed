from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS `sessions` (
    `id` BIGINT NOT NULL PRIMARY KEY,
    `code` VARCHAR(6) NOT NULL UNIQUE,
    `title` VARCHAR(200) NOT NULL,
    `current_poll_id` BIGINT,
    `last_poll_id` BIGINT,
    `version` BIGINT NOT NULL,
    `created_at` DATETIME(6) NOT NULL,
    `owner_id` INT NOT NULL,
    CONSTRAINT `fk_sessions_users_801a832a` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`) ON DELETE CASCADE,
    KEY `idx_sessions_owner_i_7ea743` (`owner_id`, `created_at`)
) CHARACTER SET utf8mb4;
        ALTER TABLE `polls` ADD `session_position` SMALLINT;
        ALTER TABLE `polls` ADD `session_id` BIGINT;
        ALTER TABLE `polls` ADD CONSTRAINT `fk_polls_sessions_4709a6b1` FOREIGN KEY (`session_id`) REFERENCES `sessions` (`id`) ON DELETE SET NULL;
        ALTER TABLE `polls` ADD INDEX `idx_polls_session_9dd1b7` (`session_id`, `session_position`);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE `polls` DROP INDEX `idx_polls_session_9dd1b7`;
        ALTER TABLE `polls` DROP FOREIGN KEY `fk_polls_sessions_4709a6b1`;
        ALTER TABLE `polls` DROP COLUMN `session_position`;
        ALTER TABLE `polls` DROP COLUMN `session_id`;
        DROP TABLE IF EXISTS `sessions`;"""


MODELS_STATE = (
    "eJztXVtz27YS/iscPTkdN2PJ8qU+T7KtNG5lKWMp7TmNOwxEQhLGFCCToB219X8/C5AU7w"
    "pJ60KzfLMWWAD8FrvcXSzovxtzpmPDev/ZwmbjQvm7QdEcwx8h+qHSQIuFTxUEjsaG7GhD"
    "D0lBY4ubSONAnCDDwkDSsaWZZMEJo0CltmEIItOgI6FTn2RT8mhjlbMp5jO5kC9/AplQHX"
    "/Dlvj5pUEsdWpji4upNBMjjnUV8cafouPiQZ0QbOihJyC66CrpKl8uJO2G8g+yo1jHWNWY"
    "Yc+p33mx5DNGV70JlbNNMcWmmA9o3LTFg4l1uwB4z+o8g9/FWXyAR8cTZBs8AMRY9WkNVe"
    "0PRuqwO1LVRg7oNEYF7LBUSz79VCzhx1azfdY+Pz5tn0MXucwV5ezFmdoHxmGU8PRHjRfZ"
    "jjhyekj0fVCFtOXfMWivZshMxjbIE0EYlh5F2MMzALELYEkQnqNvqoHplM/g53FrDZy/de"
    "6uPnbuDo5b78SEDLTD0Zm+29KSTQJxH2GdWAsDLdW8KEf5NoK018WH2lftnWPdPsqAdfso"
    "FWvRFMZ6gSzrmZm6OkPWLA/YMcbqod06OckAN/RKxVu2hQEPGvEw1peMGRjRFOscYIsgPQ"
    "a+DFDHrHQWrFeULYC9BtvLwaAnRp5b1qMhCTejCMafby+7dwdNCT10IhwHzbePN2cPmFrq"
    "EzIIvC0n3HmZh5G/BtQ4meNk6JNHiAhBd4d47/3x9jb/GnmMbm67w1Hn9lNIKNedUVe0tC"
    "R1GaEenEbUYjWI8vvN6KMifip/DPpdiSaz+NSUM/r9Rn80xJqQzZlK2bOK9CAmHtkjhaQe"
    "cI9ySjvMuQEpF9K7bdo4eEB9QI2luwPfiNhdZYlJXTi/k4eApyYIY6Q9PCN4OYVaAm89Zj"
    "g+fMQCu2wffr3DBpLAxveAGxZ8giHeoPRfvP3uUf1d4MMzRobB+CsBupSDVBUiE09g385U"
    "5+XwOqTunLFGYqiq4iU0TrWwZcHgr4Rr6IxSJaSEzWItlmbF4k3z1jxKQRRN5SOJucVMQU"
    "OVkNfwDFh6XmNlJbec12DPIEXVyT8E8xqHyhcIIxC35SI0g8H+8RucXeCyeb/ghULkmvIl"
    "RS7J9NV5kSz7rwyJkZ9arePjs9bR8en5Sfvs7OT8aJUhiTetS5Vc3vws3O3Qy/776RMN9l"
    "meONPrXyi8LJkAQtHlaYbYMupL+ZHlaTSufBTRoWsWs2Ib5NkMvvv2bUMInxxlSZdAr1SU"
    "ZVsY5wd4tGSMu9SeS5xvYE2IajiGt8e7O6wbFsBleCvJindjeNP/ude9UBzue3r7uTe6+S"
    "Qoc+AnC3fEnPI4zyCN81RZnEclIcbWZoxoOMGhGM7B/Uy16RHWzRj3LPJobte2H7fOTlfW"
    "XPxYZ7+Ht51eL54wEW77M6CD6DTBUK9NUkVZ60RVjkQVhACwakt9IhYZE+i3LGpmkkfaod"
    "ExyFNuk9O7+Q3Mi+C8p50Po+6detUbDIEkM26q9P7u6eD3PrQM+r3/XSiO28hEJqOAMWo2"
    "M1ijZjPVHImmqAAfbWJiFWkas2neBG8Cd60+OdTHDxSKqIzPvUM1YQsn3s+jJtd3oBwXim"
    "6CWoA6fOr2QRFgnHsq1eX6QpGaohdRiQ17pHUONh33auVgg1IXm7GQ0EOM9elKqU9XVqmY"
    "vIodZKxlXHoZFzLeQcZaxmWW8YRQZJC/Cok5yltLusySjuXHY9JenzBJ4i+UNSmZjDeYNw"
    "meYmQsuQyy7C4HVfray/i2zXtmE+ar0EbdweFNrKAissXjkvjATEym9Fe8jAXZySe4Xkn1"
    "G9vdace3QDbR8+qoMaTW8PDwyNjJWlx1hled624jaY9vANbsB+Ml29xZgQ2rdQhaWILS/9"
    "zrNV6y1P8wucQNVAANFjwb4m9lL9d1QPuv1hh4S02s2fC33PrKDTWwyTdbwPHFGd99uYYq"
    "LgJ1HfWtlF3eSinq2L/aoS+b1m7Qo4dHxEbyiUIymCuGChZTtDIVU7TWFFO04sUUT4xjNe"
    "W0LHXLhpl2t2mPSm0aIqWWeSOmoEWvkBnYb7y0cEssX+nXV6zUPOrVB7ZecrSU7tFv0xNz"
    "/dYEL8z3aNM9sIDrvEXnS9wrFX9Gfa9QJws/7qEc9o04ZHuuhnV8dBBUSuVC2lFpkKuKzs"
    "Y2bl4KPci11V2G+n2Yc7sHDhGRxYscIfpsFSz+qNK5kr3QC9b4hDlrMZdazHVIsTcT6rl4"
    "MehTcQ9wVAn3V8XHdZC27SAtumfrY8LvQRrQ0zLFvaHbyAnRb/S2cnoMHL8j/d1QuDGgWH"
    "H5FMmnsImCFPfkTzlAyg8TNCfG8ocLBSNtppiMywMoBV5nFvQ02TMwKoS/e9+IiGujg9/T"
    "eyoqeBUIzJXhx86PrZNTMZz4aWHNxFwhlmJx2PT6oWIx4NbYYul0gRaJkizdthTKgESnMG"
    "ZHTiEYoYErzzNY41fbqaf7Kukw7oFcFtYV2FtM+WrihYE06DJefn33H5jHeQbRW8dIv6cI"
    "2Jh4CHgEKldAuCUmspQZ0GCAJwBDTnEIUxJ4cINNmc2huw6AwfxyXjGEYUhYv3+tt044lD"
    "Lh4OyNPMkGn2NbiYYqfbtMmpXcH9MKc1XvqnM7y82SdvrVknYUZvxtQcxCJehhzjruLHXc"
    "WV8hStew6l4hsotdPLDrawd7F28mrQ44rPlcwQhjXddbNKnke/x5lSzMWetZmfWsTh1uOX"
    "VY57necJ7Lq5ZPSHEFCunTs1vBj9nt6QNpO8+xlD/uLEWSpf7G2Xa+KMEJN3IBu2KoYo3M"
    "NgpyNds0MeVqoQPfBObaRS/qohuiBqaQGKKctQyKyuAJm8lX89bBH2CqTG36rsvG6rTfvz"
    "DtV1+g33rAWl/g3tAF7iyXjHf3TwZK9rLey8XZDjaJNmskRPNuy+G6YB75fbYZytd3Ynd5"
    "JzbVfUsPGNOdt0qEjNu4ViGUKgfCbvcKotvMFJA31wTkzYSAnFGOk67H/jIc9NOySSuWqA"
    "NMNK78oxjEeou+0RpwBRghL9fD9OC2898o3Fe9wWXUfRUDXCb5TrvMTb/8H7saRg8="
)
