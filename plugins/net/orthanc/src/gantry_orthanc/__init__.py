"""gantry-orthanc: the ``orthanc+http://`` and ``orthanc+https://`` transport (Orthanc's REST API).

    with kernel.open_transport("orthanc+http://127.0.0.1:8042") as orthanc:
        orthanc.echo()
        for study in orthanc.find("study", {"PatientID": "123*", "StudyDate": "20240101-"}):
            ...

The entry module (:mod:`gantry_orthanc.plugin`) holds descriptors only; httpx and
pydicom load when an adapter is first opened.
"""

__all__: list[str] = []
