from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE `ballots` ADD INDEX `idx_ballots_poll_id_0dde32` (`poll_id`, `seq`);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE `ballots` DROP INDEX `idx_ballots_poll_id_0dde32`;"""


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
    "dTmcVygGbCtVt/yXlX4yU6/Yq3XxTF0yqrKJ+jYTLD8dTUmuwkQ1O7GSMuIt5lT8dzT8Yz"
    "ylijA58LHky2ddNPu/5Fl/qGqrdaoetk7ax0enp8ftw1UMSA7lBYNu/x2PB5Ej7cfZmJd6"
    "M0VldBSzWhiyVBVziG380oT7QSlT9wWqdNLtxNyly33g0HWu9kOxCjZlq3Tf61rGmr33qG"
    "St5r1Wc10pbLr2CjK34ohKEjWide21o9orbrN14+lHkEp+uk/lbAfaSJ8rKeWsP/Imr5wF"
    "IU/9zx2vKUK+ySk+n6DtlPwljyRSl53Fyk7uVCUQ9tkriG6zUGOgmdMYaCYbA+yJFKZ1Bf"
    "4cj4ZZv/RbicTLDqTTxr8NEzmvMaHKAZeDEak1AkwPrjp/xeE+H4y68SKCT9BNS7h2eZi9"
    "/Ae0jddz"
)
