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
    "eJztXVtz4rgS/isunjJb2alAyGVznkjC7HCWwFRgZi+TLY+wBahiJGLLybCz+e+nJdv4gk1s"
    "h4vj47fQUkvy1612d6vl/KjNmI4N6/1nC5u1C+VHjaIZhj9C9EOlhuZznyoIHI0M2dGGHpKC"
    "RhY3kcaBOEaGhYGkY0szyZwTRoFKbcMQRKZBR0InPsmm5MHGKmcTzKdyIV//BjKhOv6OLfHz"
    "a41Y6sTGFhdTaSZGHOsq4rW/Rcf5vTom2NBDT0B00VXSVb6YS1qH8g+yo1jHSNWYYc+o33m+"
    "4FNGl70JlbNNMMWmmA9o3LTFg4l1uwB4z+o8g9/FWXyAR8djZBs8AMRI9Wk1Ve31h+qgPVTV"
    "WgboNEYF7LBUSz79RCzh50a9edY8Pz5tnkMXucwl5ezZmdoHxmGU8PSGtWfZjjhyekj0fVCF"
    "tOXfK9BeTZEZj22QJ4IwLD2KsIdnAGIXwIIgPEPfVQPTCZ/Cz+PGGji/tG6vPrZuD44b78SE"
    "DHaHs2d6bktDNgnEfYR1Ys0NtFCzohzl2wjSXhcfan9r7xzr5lEKrJtHiViLpjDWc2RZT8zU"
    "1SmyplnAXmEsH9qNk5MUcEOvRLxlWxjwoBEPY33JmIERTbDOAbYI0iPgSwH1ipVOg/WSsgWw"
    "12B72e93xcgzy3owJKEzjGD8+eayfXtQl9BDJ8Jx0Hz7eHN2j6mlPiKDwNtyzJ2XeRj5a0CN"
    "kxmOhz5+hIgQdHeI994fb0/518hj2LlpD4atm08hoVy3hm3R0pDURYR6cBrZFstBlN87w4+K"
    "+Kn81e+1JZrM4hNTzuj3G/5VE2tCNmcqZU8q0oOYeGSPFJJ6wD3KKO0w5waknGvfbdPGwQPq"
    "fWosXA18I2J3N8uK1IXzO74PeGqCMELa/ROCl1OoJfDWY4bjw0cssMv24bdbbCAJ7KoOuGHB"
    "JxjiDUr/2dN3j+prgQ/PCBkG468E6FIOUlaITDwGvZ2qzsvhdUjdOmMNxVBlxUvsONXClgWD"
    "vxKugTNKmZASNos1WJIVW22aNWZRCqJoIh9JzC1mChqqmLyGZ8CS8xpLK7nlvAZ7AimqTv4h"
    "mNc4VL5CGIG4LRehGQz0x29wtMBl837BC4XINWVLilySyavzImn0rwiJkV8ajePjs8bR8en5"
    "SfPs7OT8aJkhWW1alyq57Pwq3O3Qy/7l9IkGepYlzvT65wovCyaAUHR5miK2jPpSfmR5Go0r"
    "H0R06JrFtNgGeTaD77592xDCJ0dp0iXQKxFl2RbG+R4eLR7jNrVnEucOrAlRDa/g7fHuDuua"
    "BXAZ3krS4l0bdHq/dtsXisN9R28+d4edT4IyA34yd0fMKI/zFNI4T5TFeVQSYmxtyoiGYxyK"
    "wQzcz0SbHmHdjHFPI4/6dm37cePsdGnNxY919ntw0+p2VxMmwm1/AnQQncQY6rVJqihrlajK"
    "kKiCEABWbamPxCIjAv0Wec1M/Eg7NDoGecxscrqdL2BeBOcdbX0Ytm/Vq25/ACSZcVOl93dH"
    "+7/3oKXf6/55oThuI6PGwuP40h8uGR4Zz2Wk6vUUVqpeTzRToikq2AebmFhFmsZsmjXxG8Nd"
    "basc22pKdB3HeEcvgB9lrrDPgL0fvOUxYz73Dk0XmztyzmK6rm/B/FwougmWB0zUp3YPjBOM"
    "c0elCbu+UKT10vOYow1HCVVePBn3cuXFg1IXyphL6CHG6sSr0Cdey/RY1o0dZKxkXHgZ5zLe"
    "QcZKxkWW8ZhQZJB/cok5yltJusiSXjmzWJH2+iRWHH+uTFbBZLzBXFbwZCllGWyQZXd5wcLX"
    "w66qbdZztDBfiRR1BwdqK0UuERVflcQHZmIyob/hxUqQHX+q7pW5vzHtTjpSB7KJnpbHv6Ft"
    "DQ8Pj4ydrMVVa3DVum7X4nR8A7CmL1YomHKnBTa8rUPQwhKU3udut/acpiaLySVuoCqrP+fp"
    "EH8rulzVZu2/gqbvLTW2jsZXufXVNGpAyTdbVPPVGd99uYaqYAK1NtVNoV3eFMrr2L/aoS/a"
    "rt2gRw+PiI34E4V4MJcMJSxwaaQqcGmsKXBprBa4iINTNeGkMlFlw0y7U9qjQpuGSPlr1ogp"
    "aNFLZAb2Gy/N3bLXV/r1JSv/j3r1AdWLj5aSPfptemKu3xrjhfkebbIHFnCdt+h8ibu+4s+o"
    "7xXqZOGHPZQovxGHbM8Vyo6PDoJKqFxIOioNcpXR2djGbVixDzKpustQvQ8zqnvgEBFZPM8R"
    "os9WwuKPMp0r2XM9Z41PmLMSc6HFXIUUezOhnou3An0i7gGOMuH+qvi4CtK2HaRFdbY6JnwJ"
    "0sA+LVLcG7ohHhP9Rm+QJ8fAq/fWXwyFa32KFZdPkXwKGytIcU/+lAOk/DRGM2IsfrpQMNKm"
    "ism4PIBS4HVmQU+TPQGjQvi797WIuDY6+B29o6KCV4HAXBl8bP3cODkVw4mfFtZMzBViKRYH"
    "pdcPFYsBt8bmC6cLtEiUZOm2pVAGJDqBMVtyCsEIDVx5msIav9lOPd03SYdxD+SysK6AbjHl"
    "m4nnBtKgy2jx7d1/YB7nGURvHSP9jiJgY+Ih4BGoXAHhlpjIUqZAgwEeAQw5xSFMSeDBDTZh"
    "NofuOgAG88t5xRCGIWF9+ap1lXAoZMLB0Y0syQafY1uJhjJ9T06alcwfOAtzle/6eTPNzZJm"
    "8tWSZhRm/H1OzFwl6GHOKu4sdNxZXSFK3mHlvUJk57t4YFfXDvYu3lS7OuCwZnMFI4xVXW/e"
    "pJLv8WfdZGHOap8VeZ9VqcMtpw6rPNcbznN51fIxKa5AIX1ydiv4gcE9fbRu5zmW4sedhUiy"
    "VN+d284XJTjhRiZglwxlrJHZRkGuZpsmplzNdeAbw1y56HlddEPUwOQSQ5SzkkFeGTxiM/5q"
    "3jr4A0ylqU3fddlYlfb7P0z7VRfotx6wVhe4N3SBO80l493944eCvaz3cnG2hU2iTWsx0bzb"
    "crgumEd+n22G8tWd2F3eiU1035IDxmTnrRQh4zauVYhNlQFht3sJ0a2nCsjrawLyekxAzijH"
    "cddj/zvo95KySUuWqANMNK78qxjEeou+0RpwBRghL9fD9OCm9UcU7qtu/zLqvooBLuN8p13m"
    "pp//B33HyFQ="
)
