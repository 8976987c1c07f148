"""Conversation state in a relational database (SQLAlchemy 2, Alembic migrations): SQLite by default,
PostgreSQL when DATABASE_URL says so."""

from bot.store.base import Base, Database, migrate, open_database

__all__ = ["Base", "Database", "migrate", "open_database"]
