"""The refresh's bounded pool (outcomes in the items' order, early stop) and the Hub's RateLimit headers."""

from __future__ import annotations

import threading
import time

from rigcheck.catalog.net_ratelimit import RateLimits, parse_policy, parse_ratelimit
from rigcheck.catalog.parallel import NOT_RUN, run_in_order


def test_outcomes_come_in_the_items_order_whatever_finishes_first():
    finished = []

    def work(n: int) -> int:
        time.sleep(0.01 * (5 - n))  # the last item finishes first
        if n == 2:
            raise ValueError("two")
        return n * 10

    outcomes = run_in_order(range(5), work, workers=5, on_done=lambda i, item, out: finished.append(item))
    assert outcomes[:2] == [0, 10] and isinstance(outcomes[2], ValueError) and outcomes[3:] == [30, 40]
    assert finished != sorted(finished)  # they did finish out of order


def test_no_more_than_workers_run_at_once():
    running, peak, lock = [0], [0], threading.Lock()

    def work(_n):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1

    run_in_order(range(20), work, workers=3)
    assert peak[0] == 3


def test_stopping_starts_nothing_more_and_tells_the_running_work():
    stopped = threading.Event()

    def work(n: int) -> int:
        if n == 0:
            return 0
        stopped.wait(2)  # the running ones end when told to
        return n

    outcomes = run_in_order(range(10), work, workers=2, on_done=lambda i, item, out: item == 0,
                            on_stop=stopped.set)
    ran = [o for o in outcomes if o is not NOT_RUN]
    assert outcomes[:2] == [0, 1] and len(ran) <= 3 and outcomes[3:] == [NOT_RUN] * 7  # 2: started before the stop


def test_ratelimit_headers_of_the_hub():
    assert [(a.bucket, a.remaining, a.reset_s) for a in parse_ratelimit('"api";r=489;t=189')] == [("api", 489, 189)]
    assert [a.bucket for a in parse_ratelimit('"api";r=0;t=55, "resolvers";r=2999;t=12')] == ["api", "resolvers"]
    assert parse_ratelimit("garbage") == [] and parse_ratelimit(None) == []
    assert parse_policy('"fixed window";"api";q=500;w=300') == {"api": 500}
    clock = [100.0]
    limits = RateLimits(clock=lambda: clock[0])
    limits.observe("huggingface.co", {"RateLimit": '"api";r=9;t=120'})
    assert limits.spent("huggingface.co", "api", reserve=8) is None and limits.remaining("huggingface.co", "api") == 9
    limits.observe("huggingface.co", {"RateLimit": '"api";r=8;t=119'})
    assert limits.spent("huggingface.co", "api", reserve=8) == 119
    assert limits.spent("openrouter.ai", "api", reserve=8) is None  # per host
    clock[0] += 120  # the window has reset
    assert limits.spent("huggingface.co", "api", reserve=8) is None
