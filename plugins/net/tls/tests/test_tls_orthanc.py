"""DICOM TLS both ways with a real Orthanc 1.10 (its own, started with DicomTlsEnabled, once for
this module): our dicoms:// client echoing and storing into it with mutual TLS, and Orthanc
(a modality with ``UseDicomTls``) echoing and storing into our TLS listener."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pydicom
import pytest

from gantry import TransportError
from gantry.testing.datasets import make_dataset, write_dataset
from gantry.testing.fixtures import kernel_with
from gantry.testing.orthanc import OrthancServer
from gantry_dimse.testing import listeners
from gantry_tls.contexts import server_ssl_context
from gantry_tls.transport import open_transport


@pytest.fixture(scope="module")
def tls_orthanc(pki) -> Iterator[OrthancServer]:
    """An Orthanc serving DICOM over TLS only, with the test CA's server certificate, requiring a
    client certificate from that CA, and trusting it for the listeners it connects to."""
    extra = {"DicomTlsEnabled": True, "DicomTlsCertificate": str(pki.server_cert),
             "DicomTlsPrivateKey": str(pki.server_key), "DicomTlsTrustedCertificates": str(pki.ca),
             "DicomTlsRemoteCertificateRequired": True}
    with OrthancServer.start(dicomweb=False, extra=extra) as orthanc:
        yield orthanc


def secure_url(orthanc: OrthancServer) -> str:
    return orthanc.dicom_url.replace("dicom://", "dicoms://")


def test_mutual_tls_echo_to_orthanc(tls_orthanc, client_settings):
    with open_transport(secure_url(tls_orthanc), client_settings) as orthanc:
        results = [orthanc.echo() for _ in range(2)]
        opened = orthanc.pool.opened
    assert [(result.ok, result.status) for result in results] == [(True, 0)] * 2 and opened == 1


def test_orthanc_refuses_a_client_without_a_certificate(tls_orthanc, pki):
    with open_transport(secure_url(tls_orthanc) + "?retries=0", {"ca_file": str(pki.ca)}) as orthanc, \
            pytest.raises(TransportError, match="requires a client certificate"):
        orthanc.echo()


def test_plain_dicom_to_orthancs_tls_port_fails(tls_orthanc):
    from gantry_dimse.transport import open_transport as open_plain

    with open_plain(f"{tls_orthanc.dicom_url}?retries=0&timeout=3") as orthanc, pytest.raises(TransportError):
        orthanc.echo()


def test_store_into_orthanc_over_tls(tls_orthanc, client_settings, tmp_path):
    tls_orthanc.clear()
    kernel = kernel_with(config={"tls": client_settings}, discover=True)
    datasets = [make_dataset(patient=4, instance=number, rows=16, columns=16) for number in (1, 2, 3)]
    (tmp_path / "out").mkdir()
    for number, dataset in enumerate(datasets):
        write_dataset(dataset, tmp_path / "out" / f"{number}.dcm")
    with kernel.open_transport(f"{secure_url(tls_orthanc)}?calling=GANTRY") as orthanc:
        results = list(orthanc.store([tmp_path / "out"]))
    assert [result.ok for result in results] == [True] * 3, results
    stored = {}
    for instance_id in tls_orthanc.rest("GET", "/instances"):
        dataset = pydicom.dcmread(BytesIO(tls_orthanc.rest("GET", f"/instances/{instance_id}/file")))
        stored[str(dataset.SOPInstanceUID)] = dataset.PixelData
    assert stored == {str(dataset.SOPInstanceUID): dataset.PixelData for dataset in datasets}


@pytest.fixture
def our_tls_listener(pki, tmp_path) -> Iterator[tuple[Any, Any]]:
    """Our listener over TLS (requiring a client certificate from the test CA), storing into a site."""
    database = f"sqlite:///{tmp_path / 'index.db'}"
    kernel = kernel_with(config={"storage": {"database": database, "store": str(tmp_path / "store")}},
                         discover=True)
    context = server_ssl_context({"ca_file": str(pki.ca), "cert_file": str(pki.server_cert),
                                  "key_file": str(pki.server_key), "require_client_cert": True})
    with listeners() as start:
        yield start(kernel, "OURTLS", ssl_context=context), kernel


def test_orthanc_echoes_and_stores_into_our_tls_listener(tls_orthanc, our_tls_listener, tmp_path):
    ours, kernel = our_tls_listener
    tls_orthanc.clear()
    dataset = make_dataset(patient=6, rows=16, columns=16)
    uploaded = tls_orthanc.upload(open(write_dataset(dataset, tmp_path / "one.dcm"), "rb").read())
    tls_orthanc.add_modality("gantry-tls", "OURTLS", ours.port, UseDicomTls=True)
    tls_orthanc.add_modality("gantry-plain", "OURTLS", ours.port)
    try:
        assert tls_orthanc.rest("POST", "/modalities/gantry-tls/echo", {}) == {}
        job = tls_orthanc.rest("POST", "/modalities/gantry-tls/store",
                               {"Resources": [uploaded["ID"]], "Synchronous": True})
        assert (job["InstancesCount"], job["FailedInstancesCount"]) == (1, 0), job
        accepted = ours.accepted
        with pytest.raises(RuntimeError, match="HTTP 500"):  # plain DICOM to a TLS port
            tls_orthanc.rest("POST", "/modalities/gantry-plain/echo", {})
        assert ours.accepted == accepted == 2
    finally:
        tls_orthanc.rest("DELETE", "/modalities/gantry-tls")
        tls_orthanc.rest("DELETE", "/modalities/gantry-plain")
    ours.stop()
    backend = kernel.open_storage(kernel.config.storage.database)
    try:
        [row] = backend.query("instance", {})
    finally:
        backend.close()
    assert row["SOPInstanceUID"] == str(dataset.SOPInstanceUID)
    assert pydicom.dcmread(row["location"]).PixelData == dataset.PixelData
