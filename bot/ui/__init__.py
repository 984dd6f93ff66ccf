"""What users see: typed callback data, keyboards and texts, rendered for one locale.

Handlers use these for replies; services use them to render what they queue in the outbox.
"""
