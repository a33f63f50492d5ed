from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


# Results resets (POST /polls/{id}/reset): the record of what each reset dropped.


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS `poll_resets` (
    `id` BIGINT NOT NULL PRIMARY KEY AUTO_INCREMENT,
    `reset_at` DATETIME(6) NOT NULL,
    `ballots` INT NOT NULL,
    `counts` JSON NOT NULL,
    `seq` BIGINT NOT NULL,
    `by_id` INT NOT NULL,
    `poll_id` BIGINT NOT NULL,
    CONSTRAINT `fk_poll_res_users_ddeeffa2` FOREIGN KEY (`by_id`) REFERENCES `users` (`id`) ON DELETE CASCADE,
    CONSTRAINT `fk_poll_res_polls_f032e611` FOREIGN KEY (`poll_id`) REFERENCES `polls` (`id`) ON DELETE CASCADE,
    KEY `idx_poll_resets_poll_id_619f3f` (`poll_id`, `reset_at`)
) CHARACTER SET utf8mb4;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS `poll_resets`;"""


MODELS_STATE = (
    "eJztXVtz27YS/iscPTkdN2PJ17pPsq00PpWljKWkPY07DETCEscUIJOgHTXH//0sQFK8yy"
    "StC8XizQKwAPgtsNwr/aMxpTo27fefbWw1zpUfDYKmGP6ItO8rDTSbBa28gaGRKQY6MEK0"
    "oJHNLKQxaLxHpo2hSce2ZhkzZlACrcQxTd5INRhokHHQ5BDj0cEqo2PMJmIjX/+GZoPo+D"
    "u2+c+vDcNWxw62GV9KszBiWFcRa/zNB84e1HsDm3rkCQydDxXtKpvPRNs1YR/EQL6PkapR"
    "05mSYPBsziaULEYbRKw2xgRbfD1oY5bDH4zv2wPAf1b3GYIh7uZDNDq+R47JQkCM1KCtoa"
    "q9/lAddIaq2igAnUYJhx22aounH/Mt/NxqHp0enR2eHJ3BELHNRcvpi7t0AIxLKODpDRsv"
    "oh8x5I4Q6Aegcm6LvxPQXk6QlY5tmCaGMGw9jrCPZwhiD8CKIDxF31UTkzGbwM/D1hI4v7"
    "RvLz+2b/cOW+/4ghRuh3tnel5PS3RxxAOEdcOemWiuFkU5TrcSpP0hAdTB1d441kcHObA+"
    "OsjEmndFsZ4h236mlq5OkD0pAnaCsH5ot46Pc8ANozLxFn1RwMNCPIr1BaUmRiRDOofIYk"
    "iPgC4H1AkpnQfrRcsawF6C7UW/3+UzT2370RQN18MYxp9vLjq3e00BPQwyGA6L7wBvRh8w"
    "sdUnZBrwtrxn7ss8ivwVoMaMKU6HPn2GGBN0b4r3/h+7d/iX8GN4fdMZDNs3nyJMuWoPO7"
    "ynJVrnsda9k9i1WEyi/HE9/Kjwn8pf/V5HoEltNrbEisG44V8NvifkMKoS+qwiPYyJ3+w3"
    "RbgeUo8KcjtKuQIul7p365Rx8IB6n5hz7wTuCNu9y5LgOld+7x9CmhpvGCHt4RnByynSE3"
    "rrUdPV4WMS2CP78PstNpEANnkGPLPgE0yxg9x/8c+73xqcggCeETJNyt4I0IWYpK4QWfge"
    "zu1EdV8Ob0Pq1p1ryKeqK178xqk2tm2Y/I1wDdxZao0UnAf81gvIJdQtn6dOSHHpTls0S9"
    "4nu6atabwFETQWj8TX5iuFRXqKB8gX9dkeoMX7ZM0eIPoMXFRdT03YA7SvfAWDCzFHbEIz"
    "Kdy0oMO9Lx6Z/wtevYbYUzH30YUxfrMHKc/5q4IL6ZdW6/DwtHVweHJ2fHR6enx2sPAlJb"
    "uWOZUurn/jhklELXrd0aTBOStikfvjSxniFWNAxA4/yWGFx7XOwAY/iVvgj9yO9iRnXmzD"
    "NKvBd9tWQATh44M8jiUYlYmy6Ivi/ACPlo5xhzhTgfM17AkRDSfw9mk3h3XDBrhMfyd58W"
    "4Mrnu/dTvnikt9R24+d4fXn3jLFOiNmTdjQX6c5eDGWSYvzuKc4HNrE2poOEWlGExBUc+U"
    "6THS1Qj3PPxorle2H7ZOTxbSnP9YJr8HN+1uN+la4gbOM6CDyDhFUC9158VJpUuvgEsPlG"
    "PYta0+GbYxMmDcvKyYSZ9pg0LHNJ4Ki5zu9RcQL5zyjrQ/DDu36mW3P4Am4ZtUhfZ3R/p/"
    "9KCn3+v+91xx1UZKzLlP8aU/XBA8UVZKSDWbOaRUs5kppnhXnLGPjmFhFWkadUhRF3kKtb"
    "xWJa7VxNB1nKIdvQJ+nFhiXwD7wHgrI8YC6g2KLjpz+VxEdF3dgvg5V3QLJA+IqE+dHggn"
    "mOeOCBF2da4I6aWXEUcrthJkBCEb93pFEMJc54exFNMjhDI2WOnY4MI9VvRihwkljyvP41"
    "LCO0woeVxlHt8bBJnGP6XYHKeVnK4ypxMxiwS3lzux0uhLebIqxuMV+rLCkaWcCcNhks35"
    "BSufOZw8tkXjaFG6Gh3UDQTUEulAsSOe5MQHamFjTH7H84SRnR5X9wsCdux0Z4XUodlCz4"
    "vwb+Raw8PDI2PXa3HZHly2rzqNtDO+Aljzp3VU7HDnBTZ6rSPQwhaU3udut/GSJ3uNii2u"
    "IDukP2P5EN+Vsyyz2Ipmsck0o62kGfX9raYmGwX3cnnKkRqSBKvNPPrqzu9pIJFUoVBCki"
    "w822ThWVnr581WT9Vu7QrNHnhEbKaHXdLBXBDUMAuolSsLqLUkC6iVzALi0WU1I5ybeWSj"
    "RJs7tAeVFg2xHOGiZmVYotdIDGzXqJx5ucFvNH5qVk2yHzN9Qkcv3aTMNnvWqYl5yn2KFh"
    "ao/dkaWMi+WKPyxUvH+Z9x3SsyyMaPW8jj3hGFbMtp3K6ODozKSO/IiieHqeqobKyjuJrf"
    "g0JH3SOQ78OCxz0UaUU2KxNnDchqmCFTp+CbM9NLJkJFKSWbK81maVJsTYT6Kl4C+kzcQx"
    "R1wv1N9rE00tZtpMXPrIylvgZp6J5Wye6NfHAgxfqNf5Ag2wZOfgbhVVO40SdY8egUQafQ"
    "ewUpXnhU2UPKT/doapjzn84VjLSJYlEmYlAKvM5sGGnRZyBUDPbufSPGrpVOfkfuCE9zVs"
    "AwVwYf2z+3jk/4dPynjTULM8WwFZvBodf3FZsCtUZnc3cI9AiURH67rRAKTWQMc7bFEpwQ"
    "OpjyPIE9fnPcpMNvoh3m3RPbwroCZ4sq3yw8M5EGQ0bzb+9+hXXcZ+CjdYz0O4KAjPKHgE"
    "cgYgcGs/lCtjKBNpjgCcAQS+zDkgY8uEnH1GEwXAfAYH2xLp/CNAWsr9ejS4dDJR0O7tko"
    "4mwIKNblaKjT5wmFWCn8vbwoVf1q9I/ylN8cZdffHMVhxt9nhlUqTz9KKe3OStudss4q+4"
    "bVt87KKVed4cjajK2zN9etDimsxVTBGKFMfi7rVAo0/qKXLEop71mV75l0Ha7ZdSj9XDvs"
    "5/JLClJcXKFqg2zvVvh7lVv6st/GfSzVtzsr4WSRH+dbz2c3mMHMQsAuCOqYI7OOhFzNsS"
    "xMmFoq4JtCLFX0siq6yXNgSrEhTil5UJYHT9hKr19cBn+IqDa56ZtOG5Nuv3+h209+ZWDt"
    "Bquscl9RlXueSuzN/R+Rir2st1Y461YaZ9TNLsqQXymbDcqe12zVh1Q0seZ2THqZNpHHol"
    "8wqKA+EqaroTayI9pHLm955hchMq9YiEIqH2lqPK/RTQH0P4N+L8sR5lPEL4uhMeV/imnY"
    "uwjsEtQ4FpEb4rtn9m7af8Y9N5fd/kX86PMJLmSl07ZN1tG8mOWyGF8nzGUJ+24eZFkdsc"
    "nqiLSsF2mBRwFdiMcqRYzb2DK0SSPFvvR69pcZlygYs067spAB+W+xHtf22aXMCEF2TDI7"
    "PlCLqOQ6Kvf5pSqAsDe8hug2c8V8m0tivs2UmC8lDKd9gWmZnbYgkYZaQUMtoWxt8mX28n"
    "+QNBtp"
)
