#!/usr/bin/env bash
# Both benchmarks' evidence in one device call of under 10 minutes, for a session with device time for one:
# the precision regimes' fusion campaigns (default, bf16) and the recommendation-model campaign, each with its
# sanitizer pass and independent re-timing, on shorter budgets than each script's own defaults.
#   bash benchmarks/run_on_device.sh        # from the repository root, the wheels folder carried (.whl)
CAMPAIGN_SECONDS=75 TIMER_SECONDS=30 bash benchmarks/regimes/run_on_device.sh
CAMPAIGN_SECONDS=105 SANITIZER_SECONDS=45 TIMER_SECONDS=35 bash benchmarks/recsys/run_on_device.sh
