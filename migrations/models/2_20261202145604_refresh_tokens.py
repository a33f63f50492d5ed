from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS `refresh_tokens` (
    `id` BIGINT NOT NULL PRIMARY KEY AUTO_INCREMENT,
    `family` VARCHAR(32) NOT NULL,
    `token_hash` VARCHAR(64) NOT NULL UNIQUE,
    `expires_at` DATETIME(6) NOT NULL,
    `created_at` DATETIME(6) NOT NULL,
    `used_at` DATETIME(6),
    `replaced_by` BIGINT,
    `revoked_at` DATETIME(6),
    `user_id` INT NOT NULL,
    CONSTRAINT `fk_refresh__users_1c3fe0a4` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE,
    KEY `idx_refresh_tok_family_8ce7f3` (`family`)
) CHARACTER SET utf8mb4 COMMENT='One refresh token of a session (a *family*: each rotation adds a row to it).';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS `refresh_tokens`;"""


MODELS_STATE = (
    "eJztXFt34jYQ/is+PGV70j2BkEvTJ5KwXVoCewLb26bHK2wBOjESseRkaZv/3pFs4ztrs0"
    "CI6zcYzejyjWY0MxL8U5sxE1v87UeO7dqF9k+NohmGDxH6oVZD83lAlQSBRpZidIBDUdCI"
    "CxsZAohjZHEMJBNzwyZzQRgFKnUsSxKZAYyETgKSQ8mDg3XBJlhM1UQ+/QVkQk38BXP/6/"
    "xeHxNsmZF5ElOOrei6WMwVrUPFO8UoRxvpBrOcGQ2Y5wsxZXTJTaiQ1Amm2EYCy+6F7cjp"
    "y9l5y/RX5M40YHGnGJIx8Rg5lggtd6QHtJqu9/pDfdAe6nqtAEAGoxJcmCpXq5/IKXzfqD"
    "fPmufHp81zYFHTXFLOnt2hA2BcQQVPb1h7Vu1IIJdDYRyAKnWqPiegvZoiOx3bsEwMYZh6"
    "HGEfzxDEHoB7gvAMfdEtTCdiCl+PGyvg/LV1e/W+dXtw3HgjB2RgA65l9LyWhmqSiAcIm4"
    "TPLbTQi6Icl9sI0j5LAHVgwDvHunmUA+vmUSbWsimK9Rxx/sRsU58iPi0CdkKwfGg3Tk5y"
    "wA1cmXirtijghOsTB3ORxPqSMQsjmuGdQ2IxpEcglwPqhJfOg/WSsgWwV2B72e93Zc8zzh"
    "8sRegMYxh/vLls3x7UFfTARAQOu+8Ab8HuMeX6I7KIqaOxcI/sKPLXgJogM5wOfXoPMSWY"
    "Xhdv/Q+vb/Ov0Mewc9MeDFs3HyJKuW4N27KloaiLGPXgNGYWy0603zrD95r8qv3Z77UVmo"
    "yLia1GDPiGf9bknJAjmE7Zk47MMCY+2SdFtG7YWOKuoxQ7W63tqOQGtLyW3W3Tx8ECzT61"
    "Ft4OfCVq94wloXUZ/I7vQ5GaJIyQcf+E4HCKtIROPWa5kXrMA3ti7365xRZSwCb3gBf8f4"
    "AuXqH2n/397lODXRDAM0KWxcQ3AnSpOikrRDYew76d6u7h8G1I3bp9DWVXZcJLWiJrsCzb"
    "TDbNGrM4BVE0UUuSY8uRwuaXkpP7Zpmdky9tf6s5+acaewIt6m5WHTpUgO8TBMdIOGoShs"
    "U45qqhSuN3mcYbsDOK5Ds+/1ppzp5BG8lyTnPkOPEzPchwTuP5zYPMUjx3lxfbsMxm8H3p"
    "GCuC8MlRnrQduDJRVm1RnO9haekYt6kzUzh3YE6IGjiBty+7O6xrHOCy/Jnkxbs26PR+6r"
    "YvNFf6jt587A47HyRlBvJk7vVYUB/nObRxnqmL87gmZN/GlBEDp8QBgxmEQZnOOib6da+9"
    "KX3Ut+u1jxtnp0uHLb+s8tWDm1a3m0zcZfj4BOggOklx1CuLJXHRqmBSoGACoSjMmuuPhJ"
    "MRAb7Fum4mvacdOh2LPBZ2Od3Or+BepOQdbb0btm/1q25/ACRV+dFVvHZH+7/1oKXf6/5x"
    "obmBHpMZ9RrOqF7P4Y3q9Ux3JJviCnxwiI11ZBjMoUULjSnSlfkUMJ8gtF/HZALpHZoJm7"
    "t5ZxEzub4F47jQTBvMAszhQ7sHhgD93FFlLtcXmrIUcx2T2HBEWtUCs3EvVy0wrHW5GddS"
    "ekSwqvLvdZV/WTwpathhwUrHe6/jtZx3WLDS8T7reEwossjfa6k5Lltpep81HS6K5yxoh0"
    "V2VyDZ88p24tYzBnES33fMxmRCf8GLRAaSfivlv258Zehm3UYB2UZPy9uVyLaCxcOSsZvS"
    "XbUGV63rdu05z0UyU/PbwFVyf+7zlATv6kL55S9I+/5UU69Jgy23+rJUD23yzd6ZfnL793"
    "w740R18lf1vPkF70WXakhAu/oqIyxXpmN6E1cZsERsFbkQXQqU8Da0kes2tLHiNrSRvA19"
    "ZALrGeXuzC0bFdrdpj3aa9cQfSVXLFYPu/MS+YBthepz77HSN0bqJXuKGI/UQ5uqaKC+zQ"
    "DLC0dTgqsgUM0OrEIR8RZjKvm7I/kxHlJFmDh+KPj47JJM/i9x1g+NxvHxWePo+PT8pHl2"
    "dnJ+tPQByaZVzuCy85P0B5Ej7evRmBt6g6IybhSzrjDCUmWMIbbxyxxpB4W2uidQppNuJ9"
    "s9VNxHXKxT2g/ESngpW6Z6rzM317x7j0pWat5rNVeZwqZzLz9yy49oSKJCtMq9dpR7xfds"
    "dfH0NUhDdrpP6WzkR2gpSW38R2rZqW3yp3FfzXBrfYo1T05Tchoba0jjmHPg0A6Q9t0YzY"
    "i1+O5Cw8iYajYT6rpIg1OKA6fNnkBQI+LN21pMXRvt/I7eUflgToN8Wxu8b33fODmV3cmv"
    "HBs2FhrhGhew6c1DjTOQNth84bJAi0JJvZTkGmVAohPos6WGkILQILSnKczxs+M+X/ms6N"
    "DvgZoWNjXYW0z7bOO5hQxgGS0+v/kRxnHXILlNjMw7ikCMyUXAEqiaARFcDsS1KdCgg0cA"
    "Qw1xCEMSWLjFJswRwG4CYDC+Gld2YVkK1g3/F01VR9hVHcHdG0VqCIHEtuoHZfrLGuVWCv"
    "+HSlSqfL8sbOZ5yN3MfsndjMOMv8yJvdaLz6hklU7udTpZvdjPtrDyvth31nvn61SvfF9c"
    "vbmsOhSwFgsFY4JrVTf2TK8vU24PIv6iRhaVrOxsn+2sKh1uuXRY1blecZ2rhW1iTGspFS"
    "6v5XBVbQsFPNU/+r4mcz5cURx5xDYv+I81IZHqeUW+5xXSqAog7LGXEN16rgew9RUPYOvJ"
    "B7AwosBpr19/HvR7GblyIBIP6IghtH81i/DXePqvAFeCEQnjfEwPblq/x+G+6vYv4/GZ7O"
    "AyLTrY5WH2/B+0E0zy"
)
