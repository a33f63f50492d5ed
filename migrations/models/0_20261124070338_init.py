from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS `users` (
    `id` INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
    `username` VARCHAR(32) UNIQUE,
    `display_name` VARCHAR(40),
    `password_hash` VARCHAR(255),
    `is_guest` BOOL NOT NULL,
    `tokens_valid_after` DATETIME(6),
    `created_at` DATETIME(6) NOT NULL
) CHARACTER SET utf8mb4;
CREATE TABLE IF NOT EXISTS `polls` (
    `id` INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
    `code` VARCHAR(6) NOT NULL UNIQUE,
    `question` VARCHAR(500) NOT NULL,
    `kind` VARCHAR(8) NOT NULL COMMENT 'SINGLE: single\nMULTIPLE: multiple',
    `max_choices` SMALLINT NOT NULL,
    `allow_change` BOOL NOT NULL,
    `results_visibility` VARCHAR(11) NOT NULL COMMENT 'LIVE: live\nAFTER_CLOSE: after_close\nOWNER_ONLY: owner_only',
    `require_account` BOOL NOT NULL,
    `status` VARCHAR(6) NOT NULL COMMENT 'DRAFT: draft\nOPEN: open\nCLOSED: closed',
    `created_at` DATETIME(6) NOT NULL,
    `opened_at` DATETIME(6),
    `closes_at` DATETIME(6),
    `closed_at` DATETIME(6),
    `finalized_at` DATETIME(6),
    `owner_id` INT NOT NULL,
    CONSTRAINT `fk_polls_users_f2337648` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`) ON DELETE CASCADE,
    KEY `idx_polls_owner_i_a4e0a5` (`owner_id`, `created_at`),
    KEY `idx_polls_status_c8251f` (`status`, `closes_at`)
) CHARACTER SET utf8mb4;
CREATE TABLE IF NOT EXISTS `poll_options` (
    `id` INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
    `position` SMALLINT NOT NULL,
    `label` VARCHAR(200) NOT NULL,
    `vote_count` INT NOT NULL,
    `poll_id` INT NOT NULL,
    UNIQUE KEY `uid_poll_option_poll_id_2062cd` (`poll_id`, `position`),
    CONSTRAINT `fk_poll_opt_polls_a80b90bd` FOREIGN KEY (`poll_id`) REFERENCES `polls` (`id`) ON DELETE CASCADE
) CHARACTER SET utf8mb4;
CREATE TABLE IF NOT EXISTS `ballots` (
    `id` BIGINT NOT NULL PRIMARY KEY AUTO_INCREMENT,
    `option_ids` VARCHAR(255) NOT NULL,
    `seq` BIGINT NOT NULL,
    `cast_at` DATETIME(6) NOT NULL,
    `updated_at` DATETIME(6) NOT NULL,
    `poll_id` INT NOT NULL,
    `user_id` INT NOT NULL,
    UNIQUE KEY `uid_ballots_poll_id_317d89` (`poll_id`, `user_id`),
    CONSTRAINT `fk_ballots_polls_aa751c52` FOREIGN KEY (`poll_id`) REFERENCES `polls` (`id`) ON DELETE CASCADE,
    CONSTRAINT `fk_ballots_users_01dd25be` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) CHARACTER SET utf8mb4;
CREATE TABLE IF NOT EXISTS `aerich` (
    `id` INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
    `version` VARCHAR(255) NOT NULL,
    `app` VARCHAR(100) NOT NULL,
    `content` JSON NOT NULL
) CHARACTER SET utf8mb4;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        """


MODELS_STATE = (
    "eJztXG1z2jgQ/iuMP+Vmep1g8sLlGySk5UogE2h716TjEbYCmhjJseWkXC///STZxvJrbQ"
    "qU+PwNVruy9OyLdrWG78qCGNB03n50oK2cNb4rGCwg+xChv2kowLJCKidQMDUFo8s4BAVM"
    "HWoDnTLiPTAdyEgGdHQbWRQRzKjYNU1OJDpjRHgWklyMHl2oUTKDdC4WcvuVkRE24DfoBF"
    "+tB+0eQdOIrBMZ/NmCrtGlJWh9TC8FI3/aVNOJ6S5wyGwt6ZzgFTfClFNnEEMbUMinp7bL"
    "l89X528z2JG30pDFW6IkY8B74JpU2u5UC2mKpg1HE23cm2iaUgIgnWAOLluqI3Y/40v4XW"
    "0enR61WydHbcYilrminL54jw6B8QQFPMOJ8iLGAQUeh8A4BJXrVHxOQHs+B3Y6trJMDGG2"
    "9DjCAZ4SxD6Ae4LwAnzTTIhndM6+ttQcOD91bs7fd24OWupv/IGE+YDnGUN/RBVDHPEQYQ"
    "M5lgmWWlmU43IbQTpgCaEOHXjnWB8dFsD66DATaz4UxdoCjvNMbEObA2deBuyEYPXQVo+P"
    "C8DNuDLxFmNRwJGjzVzo0CTWXUJMCHBGdJbEYkhPmVwBqBNRugjWK8oWwM7BtjsaDfjMC8"
    "d5NAWhP4lh/PGq27s5aAroGROiUA7fId6UPEDsaE/ARIYG7ql3ZEeRv2CoUbSA6dCnzxBT"
    "guFP8Tb48PqMP0cfk/5VbzzpXF1HlHLRmfT4iCqoyxj14CTmFqtJGp/7k/cN/rXxZTTsCT"
    "SJQ2e2eGLIN/mi8DUBlxINk2cNGDImATkgRbSu25DjroEUP8vXdlRyA1pey++2GePYBo0R"
    "Npe+Bb4StfvOktA6T37vH6RMjROmQH94BuxwioxIpx4xvUw9FoF9scsPN9AEAtikDfjJ/z"
    "Wb4hVq/yWw94AaWkEIzxSYJqE/CVBXTFIliLhlEZVk2VpyaKEu4hSAwUxsiT+bP0k2p5Qa"
    "MzCz7BpzZctbrTFvFfLMtKh5VaIUJBnfLUv2AHXFInSTONARA3VZusuyVGeWUSZ/D/jXSt"
    "v3DNpI1n5SIGePn1Fhxn4Sz9cfedbtB7qi2Moym8H3V+cMEYSPD4uUoYwrE2UxFsX5gW0t"
    "HeMedhcC5z5bE8A6TOAdyO4Oa8VhcJnBSorirYz7w3eD3lnDk77DVx8Hk/41pyyYPLL8GU"
    "vqo11AG+1MXbTjmuBz63OCdJiSAYwX7FjPDNYx0R9H7U3po7ndqN1ST09WAZt/yYvV46vO"
    "YJAsRHk69MzQAXiWEqhzi/+4aH0BUOICgJUXbNWsfkcOmiLGt1w3zKTPtMOgY6Kn0iFn0P"
    "/EwguXvMOdy0nvRjsfjMaMJG4yNJGv3eHR5yEbGQ0Hf581vESP8ApxjWDUbBaIRs1mZjji"
    "Q3EFPrrIhhrQdeLishdnKdK1+5RwnzC1X8dlQukdugmxIC7rJhc3zDnOGobN3IK5w3VvyB"
    "yBzXOHhbtcnDWEpxjruMSGM9L6bisb92rdbcla58a4ltIjgvWt9V7fWq8uT8o6tixY63jv"
    "dbxW8JYFax3vs47vEQYm+mctNcdla03vs6blS/GCF9qyyO4uSPb8ZjvRxYtBnMT3ktgQzf"
    "AHuExUIOn9qOBtvVeGblY3ipFt8LzqrkTMim2ebRl6Jd15Z3zeuegpL0Uao0SsbwOt0ZEV"
    "8FQE77pB+usbpKNgqalt0tDk8pulmmTkm+2Z3nrz+7GdOEhM8rV+XfcX9kVXakhAm9/KkO"
    "WqdExvopXBtgjNMg3RlUAFu6FqoW6omtMNVZPd0CdCoZZx3Z1pslGh3Rnt4V6HhuhbX+Vy"
    "dTmcVygGbCtVt/yXlX4yU6/Yq3XxTF0yqrKJ+jYTLD8dTUmuwkQ1O7GSMuIt5lT8dzT840"
    "+lVF00+79kVX+oaqt1qh62TtrHR6enx+3Dlccnh/Jcv9t/x70/coD9OPfyEm2msIz+YVbD"
    "QpaqYsawjd+VOPCxnKn7AlU613Zi7tJVPnDoOhf5oVgFW7BVut11LWPNTntUslbzXqu5rg"
    "s2XWkFeVpxRCWJGtG60tpRpRW32brN9CNIJT/dp+K1A22kz5WU4tUfeZNXvIKQp/6fjtcU"
    "Id/kFJ9P0HZK/m5HEqnLzmJlJ3eqEgj77BVEt1moDdDMaQM0k20A9kQK03oAf45Hw6zf9a"
    "1E4mUH0mnj34aJnNeYUOWAy8GI1BoBpgdXnb/icJ8PRt14EcEn6KYlXLs8zF7+A30z0bs="
)
