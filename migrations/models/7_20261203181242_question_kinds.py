from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


# Question kinds (app/kinds/): rating polls' scale and end labels, the two new kinds
# in `kind`'s comment (the column is wide enough), and the final tally's count fields
# of a finalized poll (`final_counts`; a rating has no options to hold them).


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE `polls` ADD `high_label` VARCHAR(60);
        ALTER TABLE `polls` ADD `scale` SMALLINT;
        ALTER TABLE `polls` ADD `low_label` VARCHAR(60);
        ALTER TABLE `polls` ADD `final_counts` JSON;
        ALTER TABLE `polls` MODIFY COLUMN `kind` VARCHAR(8) NOT NULL COMMENT 'SINGLE: single\nMULTIPLE: multiple\nRATING: rating\nRANKING: ranking' DEFAULT 'single';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE `polls` DROP COLUMN `high_label`;
        ALTER TABLE `polls` DROP COLUMN `scale`;
        ALTER TABLE `polls` DROP COLUMN `low_label`;
        ALTER TABLE `polls` DROP COLUMN `final_counts`;
        ALTER TABLE `polls` MODIFY COLUMN `kind` VARCHAR(8) NOT NULL COMMENT 'SINGLE: single\nMULTIPLE: multiple' DEFAULT 'single';"""


MODELS_STATE = (
    "eJztXW1T4zgS/iuufGK22CkSIHDcp8BkdrgJyRTJzN7tsOVRbJG4cKRgyzC5Pf77tWQ7fg"
    "+2yYvj1TfSVkvy01K7u9Ut/mrMqI5N+/1XG1uNC+WvBkEzDH9E6IdKA83nAZUTGBqboqED"
    "LQQFjW1mIY0B8R6ZNgaSjm3NMubMoASoxDFNTqQaNDTIJCA5xHh0sMroBLOpmMj3P4FsEB"
    "3/xDb/+b1h2OrEwTbjQ2kWRgzrKmKNP3nD+YN6b2BTj7yBofOmgq6yxVzQrgn7KBryeYxV"
    "jZrOjASN5ws2pWTZ2iBitAkm2OLjAY1ZDn8xPm8PAP9d3XcImriTD/Ho+B45JgsBMVYDWk"
    "NV+4OROuyOVLVRADqNEg47TNUWbz/hU/i11Tw5Ozk/bp+cQxMxzSXl7MUdOgDGZRTw9EeN"
    "F/EcMeS2EOgHoHJpi78T0F5NkZWObZgnhjBMPY6wj2cIYg/AiiA8Qz9VE5MJm8LP49YKOL"
    "91bq8+dW4Pjlvv+IAUdoe7Z/rek5Z4xBEPENYNe26ihVoU5TjfWpD2mwRQB1t761ifHOXA"
    "+uQoE2v+KIr1HNn2M7V0dYrsaRGwE4z1Q7t1epoDbmiVibd4FgU8rMSjWF9SamJEMrRziC"
    "2G9Bj4ckCd0NJ5sF5SNgD2CmwvB4Me73lm24+mIFyPYhh/vbns3h40BfTQyGA4rL4DvBl9"
    "wMRWn5BpwNfynrkf8yjyHwA1ZsxwOvTpPcSEoHtdvPf/2L/Fv0Ieo+ub7nDUufkSEcqHzq"
    "jLn7QEdRGjHrRj22LZifL79eiTwn8qfwz6XYEmtdnEEiMG7UZ/NPickMOoSuizivQwJj7Z"
    "J0WkHjKPCko7yrkGKZfad5vUcfCC+oCYC28F7onYvc2SkDo3fu8fQpYaJ4yR9vCM4OMUeR"
    "L66lHTteFjGthj+/j5FptIAJtcA55b8AW62EPpv/jr3acGqyCAZ4xMk7I3AnQpOqkrRBa+"
    "h3U7Vd2Pw9uQunX7GvGu6ooX33GqjW0bOn8jXEO3l1ojBesBv3UDcg11y/upE1Jcu9MWzd"
    "L3yUez1ixOQQRNxCvxsflIYZWeEgHyVX12BGj5PdlwBIg+gxRVN1ITjgAdKt/B4ULMEZPQ"
    "TAo7LXjg7hePzf8Fn15DzKlY+OjSmLw5gpRn/VUhhPSPVuv4+Kx1dNw+Pz05Ozs9P1rGkp"
    "KPVgWVLq9/445JxCx6PdCkwTor4pH77Us54hUTQMQPb+fwwuNWZ+CDt+Me+CP3oz3NmRfb"
    "MM968N21FxBB+PQoT2AJWmWiLJ5FcX6AV0vHuEucmcD5GuaEiIYTePu828O6YQNcpj+TvH"
    "g3htf933rdC8XlviM3X3uj6y+cMgN+Y85pt50RtLpQYMrQiv/uf/YI5IELqYTEznPI6zxT"
    "WudxWfG+tSk1NJxidAxnYMpnav0Y63rUfx6JNTer/Y9bZ+2lvuc/Vmn44U2n10sGn2wNmS"
    "k6fDWgS6ZSUFYsqLRGME36rMJbYrOI4o4w1S9E3c6jt9vZarud0NpTYzItDnOUS+L8Os48"
    "OvIMihORSYqGWHkWEGeV5wEFzgPAs4ZZ2+qTYRtjA9otytoo6T1t0WIxjafC9krv+hvYJp"
    "zzjnQ+jrq36lVvMASSONhQhet4Rwa/9+HJoN/7z4Xi+pyUmAuf49tgtGR4ogyXsV+azRwb"
    "qtnM3FD8UVywj45hYRVpGnVI0fO1FG65rUpsq6mh6zjFtXoF/DizxL4A9kHkp4waC7i3qL"
    "ro3JVzEdX14RbUz4WiW6B5QEV96fZBOUE/d0SosA8XitBeehl1tOYQgzx+zMa9XsePYanz"
    "xVhK6BFGmVhQ6cSCZWy96MYOM0oZV17GpZR3mFHKuMoyvjcIMo3/lhJznFdKuvKSVoVXl2"
    "Ij/2s46K+QcogvLmVDY8r/wJO29zAqu0K+HJCIaH0z9+Cm8++4BQyG92VcZryDy7iHEj90"
    "TsjhlZB4Cr+MjkeNz1BqQM6KjzDL9o5tKl/6kVy2RRMhonw1WqhbyIhI5HPGlnhSEh+phY"
    "0J+YwXiUBHemKUX9G1Z6s7KycKyBZ6XubvRLY1vDy8MnYjR1ed4VXnQ7eRtsbXAGv+vLyK"
    "Le68wEa3dQRamILS/9rrNV7ypB9TMcU1pPcN5iwf4vuylmUactE0ZJknupM80YE/1dRs0W"
    "Bfrs4ZVUOaYL2po9/d/j0LJJLrGcoolZXD26wcLuv9vNnrqdquXWdSUOGEoDclqVQOyWjB"
    "aq40ztaKNM5WMo2Tn/CrGUfqmUs2yrS9RXtUadUQK/Io6laGNXqN1MBuncq5V9zxRuenZu"
    "WAhzHXJ7T00l3KbLdnk5aYZ9ynWGGB2Z9tgYX8iw0aX/zuD/5n3PaKNLLx4w4KcfbEINtx"
    "HY5ro4OgMlJsss70w1x1NDY2cTsG3weFlrrHIL+HBZd76LQb2azMWXfAVsMspTodgDpzvW"
    "QyWpRTirnSYpYuxc5UqG/iJaDPxD3EUSfc3+QfSydt005afM3Ks9TXIA3t0yr5vZEbY1K8"
    "3/iNMtk+cPIem1dd4caAYMXjUwSfQu8VpHjHo8oBUn65RzPDXPxyoWCkTRWLMnEGpcDnzI"
    "aWFn0GRsVg7943YuJaa+d35I7wVHMFHHNl+Knza+u0zbvjP22sWZgphq3YDBa9fqjYFLg1"
    "Ol+4TeCJQEnUGNgKoUAiE+izI4bgjPCAKc9TmOMPx038/CHo0O+BmBbWFVhbVPlh4bmJNG"
    "gyXvx4908Yx30H3lrHSL8jCNgofwl4BSJmYDCbD2QrU6BBB08AhhjiEIY04MVNOqEOg+Y6"
    "AAbji3F5F6YpYH39QhEZcKhkwMFdG0WCDQHHpgINdbpfVqiVwheeRrnqd8nKSZ4SqJPsGq"
    "iTOMz459ywStVKRDml31lpv1PWumXvsPrWujnlKmQcWR+zc/Hm2tUhg7WYKRhjlMnPZYNK"
    "gcVfdJNFOeU+q/I+k6HDDYcOZZxrj+NcfklBSogrVG2QHd0KXzi8o6tZtx5jqb7fWYkgi7"
    "xddTNXnzCDpV15uCKu4jPUMUdmEwm5mmNZmDC11IFvCrM00cua6CbPgSklhjinlEFZGTxh"
    "K71+cRX8Iaba5KZvO21Mhv3+hmE/ecvAxh1WWeW+pir3PJXY2/tHUBX7WO+scNatNM6om1"
    "2WIb9SNhuUPW/Yqw+ZaGLM3bj0Mm0ij0e/FFBBeyTMV0NrZE+sj1zR8swbITK3WIhDGh9p"
    "Znzhe9HWdCNa1YBdgdqGrkSTlU5bdlnHi2Key7J9nTCXJez7uZBldcQ2qyPSsl6kBx4FdK"
    "keq3Ri3MGWoU0bKf6l9+RwlXOJgjab9CsLOZB/F+9xY9cuZZ4QZJ9JZp8P1OJUchOV+3xT"
    "FUDYa15DdJu5znybK858mylnvpQwnHYD0yo/bckiHbWCjlrC2Nrmx+zl/zXA8R0="
)
