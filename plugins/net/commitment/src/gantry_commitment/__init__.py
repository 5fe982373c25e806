"""Storage Commitment Push Model for Gantry: the SCU that asks a node to commit instances
(N-ACTION, then the N-EVENT-REPORT on the same association) and the SCP that answers from the index."""
