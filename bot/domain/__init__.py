"""The pure core of Frontdoor: no aiogram, no SQLAlchemy, nothing of ours outside this package."""
