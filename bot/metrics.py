"""Prometheus metrics: updates handled, handler latency, outbox depth and age, sends, escalations."""

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from bot.services.clock import SweepReport


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "frontdoor_updates_total", "Updates handled", ["type"], registry=self.registry
        )
        self.latency = Histogram(
            "frontdoor_handler_seconds",
            "Time to handle one update",
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.outbox_depth = Gauge(
            "frontdoor_outbox_pending", "Messages waiting in the outbox", registry=self.registry
        )
        self.outbox_age = Gauge(
            "frontdoor_outbox_oldest_seconds",
            "Age of the oldest due message in the outbox",
            registry=self.registry,
        )
        self.sends = Counter(
            "frontdoor_sends_total",
            "Outbox deliveries by result",
            ["result"],
            registry=self.registry,
        )
        self.escalations = Counter(
            "frontdoor_clock_steps_total",
            "Escalations, reminders and other clock steps",
            ["step"],
            registry=self.registry,
        )

    def count_steps(self, report: "SweepReport") -> None:
        for step, count in report.counts.items():
            self.escalations.labels(step).inc(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)
