from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


# The host's hide/reveal switch (results_hidden) and a fourth results_visibility,
# after_vote; the column is wide enough already, only its comment lists the new value.
# Number 5: 4 is the sessions migration, written alongside (SPEC_SESSIONS.md).


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE `polls` ADD `results_hidden` BOOL NOT NULL DEFAULT 0;
        ALTER TABLE `polls` MODIFY COLUMN `results_visibility` VARCHAR(11) NOT NULL COMMENT 'LIVE: live\nAFTER_CLOSE: after_close\nOWNER_ONLY: owner_only\nAFTER_VOTE: after_vote' DEFAULT 'live';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE `polls` DROP COLUMN `results_hidden`;
        ALTER TABLE `polls` MODIFY COLUMN `results_visibility` VARCHAR(11) NOT NULL COMMENT 'LIVE: live\nAFTER_CLOSE: after_close\nOWNER_ONLY: owner_only' DEFAULT 'live';"""


MODELS_STATE = (
    "eJztXFtz4rgS/isunjJb2alAyOVkn0jC7HCWwFRgZvfsZMojbAGqGIlYcjKcPfnvpyXb+E"
    "5sBghx+Q23unX5Wmp3q9v8U5sxE1v8/WeO7dqF9k+NohmGHxH6oVZD83lAlQSBRpZidIBD"
    "UdCICxsZAohjZHEMJBNzwyZzQRgFKnUsSxKZAYyETgKSQ8mDg3XBJlhM1US+fgMyoSb+gb"
    "l8/FojXJ84mAs5lGFjJLCpI1H7Jhnn9/qYYMuMrICYklXRdbGYK1qHig+KUc5jpBvMcmY0"
    "YJ4vxJTRJTeharQJptiW4wFN2I5cmJy3B4C/VncNAYs7+ZCMicfIsUQIiJEe0Gq63usP9U"
    "F7qOu1AtAZjErYYapcrX4ip/Bro948a54fnzbPgUVNc0k5e3aHDoBxBRU8vWHtWbUjgVwO"
    "hX4AqtS2+p2A9mqK7HRswzIxhGHqcYR9PEMQewDuCcIz9EO3MJ2IKTweN1bA+aV1e/WxdX"
    "tw3HgnB2RwOtwz0/NaGqpJIh4gbBI+t9BCL4pyXG4jSPssAdTB0d451s2jHFg3jzKxlk1R"
    "rOeI8ydmm/oU8WkRsBOC5UO7cXKSA27gysRbtUUBDxvxKNaXjFkY0QzrHBKLIT0CuRxQJ6"
    "x0HqyXlC2AvQLby36/K3uecf5gKUJnGMP4881l+/agrqAHJiJw2HwHeAt2jynXH5FF4G05"
    "Fu7LPIr8NaAmyAynQ5/eQ0wJptfFe//H29v8K/Qx7Ny0B8PWzaeIUq5bw7ZsaSjqIkY9OI"
    "0di2Un2p+d4UdNPmp/93tthSbjYmKrEQO+4d81OSfkCKZT9qQjM4yJT/ZJEa2H3KOC2o5K"
    "bkDLa527bdo4WKDZp9bC24FvRO3eYUloXTq/4/uQpyYJI2TcPyF4OUVaQm89Zrk+fMwCe2"
    "If/rjFFlLAJveAFxZ8gi7eoPaf/f3uU4NdEMAzQpbFxE8CdKk6KStENh7Dvp3q7svh55C6"
    "dfsayq7KhJc8iazBss5msmnWmMUpiKKJWpIcW44UPn4p0bp/LLOj9eXZ33K0zp5Ai7obVY"
    "ej9UPtKzjHSDhqEobFOObFw/hLMvnpSD7P3tqHUP5fjcbx8Vnj6Pj0/KR5dnZyfrSM6ZNN"
    "q4L7y87v0kGMvJ5eDvgN2ENFIiOff62AaM8UEImHTnNEQ/G3fxALncYjoQcZz3iGMS+2YZ"
    "nN4Pva3lgE4ZOjPAE+cGWirNqiON/D0tIxblNnpnDuwJwQNXACb192d1jXOMBl+TPJi3dt"
    "0On93m1faK70Hb353B12PknKDOTJ3OuxoD7Oc2jjPFMX53FNyL6NKSMGTvEYBjNwmDJtek"
    "x0M8Y9jz7q27Xtx42z06U1lw+r7PfgptXtJkN86Wg+ATqITlIM9cprlbhodbVS4GoFnFaY"
    "NdcfCScjAnyLdc1Mek87NDoWeSxscrqdL2BepOQdbX0Ytm/1q25/ACR1R6Qrz+6O9v/sQU"
    "u/1/3Phea6hAxib1/iS3+4FHhkYi0jVa/nsFL1eqaZkk1xxT44xMY6Mgzm0KJXlSnS1bFa"
    "41hNiWniFO/oBfDjwhX2BbAPArN1zFggvUPTxeaunouYrutbMD8XmmmD5QET9andA+ME/d"
    "xRZcKuLzRlvcx1zNGGo4TqJjcb93Ld5Ia1LjfjWkqPCFY5mr3O0Syvvooe7LBgpeO91/Fa"
    "xjssWOl4n3U8JhRZ5L9rqTkuW2l6nzUdTmnkrCoMi+zu0mrPywsTOesYxEl8PzAbkwn9Ay"
    "8SEUh6TtGvWn1j6GblEoFso6dlbiyyrWDxsGTshnRXrcFV67pde85TBsDU/DZQCNCf+zwl"
    "wbsqB3j99Hbfn2pqkjvYcqtT3Xpok2824/3V7d+z7YwT1cm3WCK8Kk7fZXH6Ug0JaFenl8"
    "JyZXpNbyK9BEvEVvqVYDqYS4ESZqgbuTLUjRUZ6kYyQy0zH3pGqiFzy0aFdrdpj/baNERr"
    "HFN99VWlQ2GLXiIzsIMKohU+/dyrSftJl75kFadxlz609Yp69Nv0xDy/NcULCzzabA8s5D"
    "pv0fmSn5fJn3HfK8LE8cMr1Bi+EYfslUsMXR8dFJWReszKdYSlyuhsbOMDLHkOCm11T6B6"
    "Hxbc7qEsAOJinRxAIFbC7G2ZLoadublmkj4qWal5r9VchRSvZkJ9Fy8BfSbuIYky4b6txE"
    "sVpG0kSIvv2SqV9RKkoXO6T3Fv5KPElOg3/tFidgyc/FTyxVC41qdY8+Q0JaexsYY0jjkH"
    "Du0Aab+M0YxYi18uNIyMqWYzoRJQGrzOOHDa7AkENSLeva/F1LXRzu/oHZUleBoE5trgY+"
    "vXxsmp7E4+cmzYWGiEa1zApjcPNc5A2mDzhcsCLQolVXvJNcqARCfQZ0sNIQWhQWhPU5jj"
    "d8ctiPmu6NDvgZoWNjXYW0z7buO5hQxgGS2+v/sNxnHXILlNjMw7ikCMyUXAEqiaARFcDs"
    "S1KdCgg0cAQw1xCEMSWLjFJswRwG4CYDC+Gld2YVkK1pe/g6wuHPbywsHdG0UuGwKJbV00"
    "lOkvjJRZKfyfOlGp8n0/2sxTGt7Mrg1vxmHGP+bEXquGNCpZxZ17HXdW3wBkn7DyfgPgrF"
    "c57FR1w6+u3lynOuSwFnMFY4Jr3W7smV5f51Ip8PiLHrKoZHXO9vmcVVeHW746rO653vA9"
    "VwvbxJjWUm64vJbDVXdbKODZ5r9JVUW0uyyifcQ2L/i/RCGRqg4jXx2GPFQFEPbYS4huPV"
    "dJbX1FSW09WVILIwqcVk/770G/lxErByJxh44YQvufZhH+Ft/+K8CVYETcOB/Tg5vWX3G4"
    "r7r9y7h/Jju4TPMOdvkye/4/1dT28g=="
)
