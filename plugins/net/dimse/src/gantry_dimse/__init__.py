"""gantry-dimse: the ``dicom://`` transport (DIMSE over TCP) and the C-ECHO service.

- :mod:`gantry_dimse.urls`: ``dicom://CALLED@host:port?calling=AE`` and named nodes;
- :mod:`gantry_dimse.transport`: the adapter (``echo()``; the extension point for more services);
- :mod:`gantry_dimse.associations`: opening associations, the pool that reuses them;
- :mod:`gantry_dimse.retry`: what is worth retrying (retries and breakers: :mod:`gantry.resilience`);
- :mod:`gantry_dimse.listener`: the SCP listener; :mod:`gantry_dimse.echo`: C-ECHO SCU and SCP.

Importing this package imports nothing heavy; the modules above load pynetdicom when used.
"""
