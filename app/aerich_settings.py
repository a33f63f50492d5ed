"""The Tortoise config aerich reads (`aerich.ini` points here); built from the environment."""

from app.config import load_settings
from app.db import tortoise_config

TORTOISE_ORM = tortoise_config(load_settings(), with_aerich=True)
