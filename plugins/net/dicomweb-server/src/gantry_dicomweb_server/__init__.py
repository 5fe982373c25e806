"""gantry-dicomweb-server: DICOMweb (QIDO-RS, WADO-RS, WADO-URI, STOW-RS) over Gantry's index
and instance store, run by ``gantry serve``.

The application is built by :func:`gantry_dicomweb_server.app.build_app` from a
:class:`gantry_dicomweb_server.context.ServerContext` (kept out of this module so that plugin
discovery imports neither starlette nor pydicom).
"""
