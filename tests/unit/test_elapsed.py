"""Whole-second durations: each instant is truncated to its second before subtracting, whatever
zone the instants are given in."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.elapsed import epoch_second, whole_seconds

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_instants_are_truncated_to_their_second_before_subtracting() -> None:
    start = NOON + timedelta(microseconds=900_000)
    assert whole_seconds(start, start + timedelta(microseconds=200_000)) == 1  # 0.2 s across :01
    assert whole_seconds(start, start + timedelta(microseconds=50_000)) == 0
    assert whole_seconds(NOON, NOON + timedelta(seconds=299, microseconds=999_999)) == 299
    assert whole_seconds(start, NOON) == 0
    assert whole_seconds(NOON + timedelta(seconds=5), NOON) == -5


def test_the_epoch_second_is_the_same_in_any_zone_and_before_1970() -> None:
    london = NOON.astimezone(ZoneInfo("Europe/London"))
    shanghai = NOON.astimezone(ZoneInfo("Asia/Shanghai"))
    assert epoch_second(london) == epoch_second(shanghai) == int(NOON.timestamp())
    assert epoch_second(datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)) == -1


def test_a_duration_across_a_dst_change_counts_elapsed_seconds() -> None:
    london = ZoneInfo("Europe/London")
    before = datetime(2026, 3, 29, 0, 30, tzinfo=london)  # GMT
    after = datetime(2026, 3, 29, 2, 30, tzinfo=london)  # BST: one hour later, not two
    assert whole_seconds(before, after) == 3600
