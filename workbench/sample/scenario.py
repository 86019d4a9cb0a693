"""Facts of the demo scenario that every part of it shares.

The story: ``credit_risk`` scores loan applications. On DRIFT_START a broker partner is
onboarded: broker traffic grows, incomes and loan purposes shift, and the partner's feed
sends ``debt_to_income`` in percent (0-100) instead of a ratio (0-1). That breaks the
data contract (out-of-range values), shows up as drift, and on INCIDENT_START the scoring
service's feature validation starts rejecting broker requests (5xx errors, slow retries):
incident INC-2026-1019, mitigated by rolling back to the previous feature pipeline.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

SEED = 20261027

MODEL = "credit_risk"
MODEL_VERSIONS = ("v3", "v4")          # v4 promoted on V4_PROMOTED
OTHER_MODELS = ("fraud_screen", "collections_priority")
ALL_MODELS = (MODEL, *OTHER_MODELS)

# Reference window: the training-time sample.
REFERENCE_START = datetime(2026, 6, 1, tzinfo=UTC)
REFERENCE_END = datetime(2026, 8, 31, tzinfo=UTC)
REFERENCE_ROWS = 20_000

# Current window: four weeks of scoring logs.
CURRENT_START = datetime(2026, 10, 5, tzinfo=UTC)
CURRENT_END = datetime(2026, 11, 2, tzinfo=UTC)   # exclusive
CURRENT_ROWS = 40_000
LABELS_UNTIL = datetime(2026, 10, 19, tzinfo=UTC)   # labels known for the older part (exclusive)

DRIFT_START = datetime(2026, 10, 19, tzinfo=UTC)    # broker partner onboarded
V4_PROMOTED = datetime(2026, 10, 12, tzinfo=UTC)

INCIDENT_ID = "INC-2026-1019"
INCIDENT_START = datetime(2026, 10, 20, 9, 12, tzinfo=UTC)
INCIDENT_DETECTED = datetime(2026, 10, 20, 10, 3, tzinfo=UTC)
INCIDENT_ACKNOWLEDGED = datetime(2026, 10, 20, 10, 11, tzinfo=UTC)
INCIDENT_MITIGATED = datetime(2026, 10, 20, 11, 37, tzinfo=UTC)
INCIDENT_RESOLVED = datetime(2026, 10, 21, 16, 0, tzinfo=UTC)

# Cost window: 90 days ending with the current window.
COST_END = CURRENT_END
COST_START = COST_END - timedelta(days=90)
CURRENCY = "USD"

# The contract of the scoring table.
CONTRACT_ID = "urn:datacontract:lending:loan-scoring"
SCORING_TABLE = "loan_scoring"
SENSITIVE_COLUMNS = ("applicant_email",)
