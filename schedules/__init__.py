"""Time-driven work: APScheduler ticks jobs that read due work from the database."""
