"""Storage Commitment Push Model for Gantry: the SCU that asks a node to commit instances (N-ACTION,
then the N-EVENT-REPORT on the same or a new association), the SCP that answers from the index and
reports on either, and ``gantry commit``."""
