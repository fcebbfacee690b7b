"""What the integration runs on: the message broker (`broker:`) and each design's options
(`designs:`), in a scenario.

broker:                                   # a Kafka/SQS-like broker shared by the designs
  latency: {p50: 20ms, p99: 250ms}        # publish to delivery
  duplicate_probability: 0.01             # delivered twice (an acknowledgement lost)
  reorder_probability: 0.02               # held back by `reorder_delay`, so later ones pass it
  redeliver_after: 30s                    # an unacknowledged delivery comes back after this
  max_deliveries: 5                       # then it goes to the consumer group's dead letters
designs:
  batch-esb: {interval: 4h}               # options passed to that design's factory
"""

from __future__ import annotations

from typing import Any

from pydantic import PositiveInt

from harness.scenario.systems import LatencySpec
from harness.scenario.types import PositiveDuration, Probability, Spec
from simulators.latency import Latency


class BrokerSpec(Spec):
    latency: LatencySpec = LatencySpec(p50=0.02, p99=0.25)
    """From publish to delivery (a latency model)."""
    duplicate_probability: Probability = 0.0
    """The share of messages delivered twice (an acknowledgement lost)."""
    reorder_probability: Probability = 0.0
    """The share of messages held back by `reorder_delay`, so later ones pass them."""
    reorder_delay: LatencySpec = LatencySpec(exponential=30.0)
    """How long a reordered message is held back (a latency model)."""
    redeliver_after: PositiveDuration = 30.0
    """An unacknowledged delivery comes back after this (a duration)."""
    max_deliveries: PositiveInt = 5
    """Deliveries of one message before it goes to the consumer group's dead letters."""

    def latency_model(self) -> Latency:
        return self.latency.model()

    def reorder_model(self) -> Latency:
        return self.reorder_delay.model()


#: Options per design name, passed to its factory as keyword arguments.
DesignOptions = dict[str, dict[str, Any]]
