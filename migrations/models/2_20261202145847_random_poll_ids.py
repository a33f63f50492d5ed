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
    "eJztW21z2jgQ/iuMP+VmejfB5IXLN0hIy5VAJtD2rknHI2wFNDGSY8tJuV7++0myjeXX2h"
    "QI8fgbrHZl6dkX72rlH8qCGNB0/vjkQFs5a/xQMFhA9iNCf9dQgGWFVE6gYGoKRpdxCAqY"
    "OtQGOmXEe2A6kJEM6Og2sigimFGxa5qcSHTGiPAsJLkYPbpQo2QG6Vws5PYbIyNswO/Q4X"
    "9vFeRoMxc6lD9KtyGg0NAAVb5xRutBu0fQNCI7QAZnFXSNLi1B62N6KRj5OqaaTkx3gUNm"
    "a0nnBK+4ERZPm0EMbf48RqO2yzfG1+0DEOzV20PI4i1ekjHgPXBNKgEx1UKaomnD0UQb9y"
    "aappSATieYw86W6ojdz/gSflebR6dH7dbJUZuxiGWuKKcv3qNDYDxBAc9woryIcUCBxyHQ"
    "D0Hl2ha/E9Cez4Gdjq0sE0OYLT2OcICnBLEP4J4gvADfNRPiGZ2zvy01B87PnZvzD52bg5"
    "b6G38gYd7h+czQH1HFEEc8RNhAjmWCpVYW5bjcRpAOWEKoQ9feOdZHhwWwPjrMxJoPRbG2"
    "gOM8E9vQ5sCZlwE7IVg9tNXj4wJwM65MvMVYFHA5iEex7hJiQoAzorMkFkN6yuQKQJ2I0k"
    "WwXlG2AHYOtt3RaMBnXjjOoykI/UkM409X3d7NQVNAz5gQhXL4DvGm5AFiR3sCJmJvy3vq"
    "vcyjyF8w1ChawHTo02eIKcHwp/gj+PH2jD9HH5P+VW886VxdR5Ry0Zn0+IgqqMsY9eAk5h"
    "arSRpf+pMPDf638XU07Ak0iUNntnhiyDf5qvA1AZcSDZNnDRgyJgE5IEW0LqVHJbUdldyA"
    "ltfyu23GOLZBY4TNpW+Bb0TtvrMktM6T3/sHKVPjhCnQH54BezlFRqS3HjG9HD4WgX2xy4"
    "830AQC2KQN+GXBNZviDWr/JbD3gBpaQQjPFJgmob8IUFdMUiWIuGURlWTZWnJooS7iFIDB"
    "TGyJP5s/STanlOozMLPs6nNly1uuPskz06LmVYly9fmuccuSPUBdsQjdJA50ypelXTT75c"
    "q0iG3tQ2n6p6q2WqfqYeukfXx0enrcPlzVqMmhvGK123/PE55IuP15AaszGyqT6Qf8ayX4"
    "e6aASH5/UiC7j7/Nwtz+JJ7ZP/L83A+JRbGVZTaD72tnFxGEjw+LFKyMKxNlMRbF+YFtLR"
    "3jHnYXAuc+WxPAOkzgHcjuDmvFYXCZwUqK4q2M+8P3g95Zw5O+w1efBpP+NacsmDyy/BlL"
    "6qNdQBvtTF2045rgc+tzgnSYkiuMFywByIzpMdHNBPci+mhuN7a31NOTVTTnf/Li9/iqMx"
    "gkS1aeOD0zdACepQTq3GOCuGh9VFDiqIAVImzVrNJHDpoixrdcN8ykz7TDoGOip9IhZ9D/"
    "zMILl7zDnctJ70Y7H4zGjCTOPDSR2d3h0ZchGxkNB/+cNbyUkPBaco1g1GwWiEbNZmY44k"
    "NxBT66yIYa0HXi4rJHbCnStfuUcJ+wCFjHZULpHboJsSAu6yYXN8w5zhqGzdyCucN1b8gc"
    "gc1zh4W7XJw1hKcY67jEhjPS+hQsG/dqnYLJWufGuJbSI4L1+fZen2+vjlnKOrYsWOt473"
    "W8VvCWBWsd77OO7xEGJvp3LTXHZWtN77Om5ePzgjeyZJHdHZDs+dWsRL8vBnES30tiQzTD"
    "H+EyUYGkd66CG39vDN2svhUj2+B51YeJmBXbPNsy9Eq68874vHPRU16KtFCJWN8GmqgjK+"
    "CpCN51K/X1W6mjYKmpDdXQ5PLbqppk5Jvtrt568/uxnThITPIt1nStL/bu8mLvSg0JaPNb"
    "GbJclV7Tm2hlsC1Cs0xDdCVQwW6oWqgbquZ0Q9VkN/SJUKhlHHdnmmxUaHdGe7jXoSF6Py"
    "w1V8+7piJH9AqFgR3cVsnJ6S3//tMvpvQVu60XT+kl0yub0W8zE/Pz1pQsLMxoszMwKXXe"
    "YvLFP83hP+O5V4TJgY+vcJ/tjSRkr3ydzcvRmaIyWo9ZvQ5ZqorJxjY+XuF+UMrUfYH6fV"
    "jS3KUuAHDoOj2AUKyC3dsqHQy7lrFmkz4qWat5r9VclxSvFkKDFC8BfSbukkSVcN9W46Uu"
    "0jZSpMVttm5l/QxSyU/3qe7tQBvpcyWl7vVH3uXVvSDk2eYXXXVzYZfNhSdoOyW/DZJE6v"
    "q0WH3KnaoEwj57BdFtFmo1NHNaDc1kq4E9kcK0PsNf49Ew69vBlUi8PkE6bfzXMJHzFhOq"
    "HHA5GJGiJMD04Krzdxzu88GoG682+ATdtIRrly+zl/8BI87/Lg=="
)
