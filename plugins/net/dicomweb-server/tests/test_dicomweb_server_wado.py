"""WADO-RS and WADO-URI through dicomweb-client and raw HTTP: byte-exact instances and frames,
lossless transcoding on request, metadata with BulkDataURI, bulk data, and the refusals."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from pydicom import dcmread
from pydicom.encaps import generate_frames

from gantry.uids import (
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    JPEG_BASELINE,
    JPEG_LS_LOSSLESS,
    RLE_LOSSLESS,
)
from gantry_dicomweb_server.testing import split_multipart

STUDY1 = ("native", "multiframe", "rle", "jpegls", "series2")
AS_STORED = 'multipart/related; type="application/dicom"; transfer-syntax=*'


@pytest.fixture
def loaded(serve: Any, instances: Any, stow_raw: Any) -> Any:
    served = serve()
    response = stow_raw(served, [instances[name].data for name in (*STUDY1, "other")])
    assert response.status_code == 200, response.text
    return served


def _instance_url(served: Any, instance: Any) -> str:
    return f"{served.url}/studies/{instance.study_uid}/series/{instance.series_uid}/instances/{instance.sop_uid}"


def _encapsulated_frames(instance: Any) -> list[bytes]:
    dataset = dcmread(instance.path)
    return list(generate_frames(dataset.PixelData, number_of_frames=instance.frames))


def test_instances_as_stored_are_byte_identical(loaded: Any, instances: Any) -> None:
    for name in ("native", "multiframe", "rle", "jpegls"):
        response = httpx.get(_instance_url(loaded, instances[name]), headers={"Accept": AS_STORED})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith('multipart/related; type="application/dicom"; boundary=')
        ((content_type, content),) = split_multipart(response)
        assert content_type == f"application/dicom; transfer-syntax={instances[name].syntax}"
        assert content == instances[name].data


def test_dicomweb_client_retrieves_instances_series_and_studies(loaded: Any, instances: Any) -> None:
    client = loaded.client()
    rle = instances["rle"]
    as_stored = client.retrieve_instance(rle.study_uid, rle.series_uid, rle.sop_uid)  # its default: "*"
    assert as_stored.file_meta.TransferSyntaxUID == RLE_LOSSLESS
    assert list(generate_frames(as_stored.PixelData, number_of_frames=2)) == _encapsulated_frames(rle)
    explicit = client.retrieve_instance(rle.study_uid, rle.series_uid, rle.sop_uid,
                                        media_types=(("application/dicom", EXPLICIT_VR_LITTLE_ENDIAN),))
    assert explicit.file_meta.TransferSyntaxUID == EXPLICIT_VR_LITTLE_ENDIAN
    assert explicit.PixelData == rle.native
    assert explicit.SOPInstanceUID == rle.sop_uid
    # No transfer-syntax parameter: PS3.18's default, Explicit VR Little Endian, decoded losslessly.
    response = httpx.get(_instance_url(loaded, rle), headers={"Accept": 'multipart/related; type="application/dicom"'})
    ((content_type, content),) = split_multipart(response)
    assert content_type == f"application/dicom; transfer-syntax={EXPLICIT_VR_LITTLE_ENDIAN}"
    assert dcmread(io.BytesIO(content)).PixelData == rle.native

    series = client.retrieve_series(rle.study_uid, rle.series_uid, media_types=(("application/dicom", "*"),))
    assert sorted(d.SOPInstanceUID for d in series) == sorted(instances[n].sop_uid for n in STUDY1[:4])
    study = client.retrieve_study(rle.study_uid, media_types=(("application/dicom", EXPLICIT_VR_LITTLE_ENDIAN),))
    assert sorted(d.SOPInstanceUID for d in study) == sorted(instances[n].sop_uid for n in STUDY1)
    for dataset in study:
        assert dataset.file_meta.TransferSyntaxUID == EXPLICIT_VR_LITTLE_ENDIAN
        (name,) = [n for n in STUDY1 if instances[n].sop_uid == dataset.SOPInstanceUID]
        assert dataset.PixelData == instances[name].native


def test_study_as_stored_over_raw_http_is_byte_identical(loaded: Any, instances: Any) -> None:
    response = httpx.get(f"{loaded.url}/studies/{instances['native'].study_uid}", headers={"Accept": AS_STORED})
    contents = sorted(content for _, content in split_multipart(response))
    assert contents == sorted(instances[name].data for name in STUDY1)


def test_lossless_transcoding_on_request_and_406_for_lossy(loaded: Any, instances: Any) -> None:
    client = loaded.client()
    native = instances["native"]
    for target in (RLE_LOSSLESS, JPEG_LS_LOSSLESS):
        dataset = client.retrieve_instance(native.study_uid, native.series_uid, native.sop_uid,
                                           media_types=(("application/dicom", target),))
        assert dataset.file_meta.TransferSyntaxUID == target
        dataset.decompress()
        assert dataset.PixelData == native.native
    lossy = httpx.get(_instance_url(loaded, native),
                      headers={"Accept": f'multipart/related; type="application/dicom"; transfer-syntax={JPEG_BASELINE}'})
    assert lossy.status_code == 406
    assert "losslessly" in lossy.json()["error"]["message"]
    # A list: the first acceptable one that can be made wins.
    either = httpx.get(_instance_url(loaded, native), headers={"Accept": (
        f'multipart/related; type="application/dicom"; transfer-syntax={JPEG_BASELINE}, '
        f'multipart/related; type="application/dicom"; transfer-syntax={RLE_LOSSLESS}')})
    ((content_type, content),) = split_multipart(either)
    assert content_type.endswith(RLE_LOSSLESS)
    assert dcmread(io.BytesIO(content)).pixel_array.tobytes() == native.native
    assert httpx.get(_instance_url(loaded, native), headers={"Accept": "image/png"}).status_code == 406


def test_implicit_vr_is_sent_as_explicit_even_as_stored(serve: Any, instances: Any, stow_raw: Any, tmp_path: Any) -> None:
    from gantry.testing.datasets import make_dataset, write_dataset

    served = serve()
    dataset = make_dataset(study=3, instance=1)
    path = write_dataset(dataset, tmp_path / "implicit.dcm", transfer_syntax=IMPLICIT_VR_LITTLE_ENDIAN)
    assert stow_raw(served, [open(path, "rb").read()]).status_code == 200
    url = (f"{served.url}/studies/{dataset.StudyInstanceUID}/series/{dataset.SeriesInstanceUID}"
           f"/instances/{dataset.SOPInstanceUID}")
    ((content_type, content),) = split_multipart(httpx.get(url, headers={"Accept": AS_STORED}))
    assert content_type.endswith(EXPLICIT_VR_LITTLE_ENDIAN)
    sent = dcmread(io.BytesIO(content))
    assert sent.file_meta.TransferSyntaxUID == EXPLICIT_VR_LITTLE_ENDIAN and sent.PixelData == dataset.PixelData


def test_native_frames_are_the_stored_bytes_in_the_order_asked(loaded: Any, instances: Any) -> None:
    multiframe = instances["multiframe"]
    frames = list(loaded.client().retrieve_instance_frames(multiframe.study_uid, multiframe.series_uid,
                                                           multiframe.sop_uid, [3, 1]))
    assert frames == [multiframe.native_frame(3), multiframe.native_frame(1)]
    response = httpx.get(_instance_url(loaded, multiframe) + "/frames/2")
    assert response.headers["content-type"].startswith('multipart/related; type="application/octet-stream"')
    ((content_type, content),) = split_multipart(response)
    assert content_type == f"application/octet-stream; transfer-syntax={EXPLICIT_VR_LITTLE_ENDIAN}"
    assert content == multiframe.native_frame(2)


def test_compressed_frames_as_stored_or_decoded(loaded: Any, instances: Any) -> None:
    client = loaded.client()
    rle, jpegls = instances["rle"], instances["jpegls"]
    as_stored = list(client.retrieve_instance_frames(rle.study_uid, rle.series_uid, rle.sop_uid, [1, 2]))
    assert as_stored == _encapsulated_frames(rle)
    decoded = list(client.retrieve_instance_frames(rle.study_uid, rle.series_uid, rle.sop_uid, [2, 1],
                                                   media_types=("application/octet-stream",)))
    assert decoded == [rle.native_frame(2), rle.native_frame(1)]
    jls = list(client.retrieve_instance_frames(jpegls.study_uid, jpegls.series_uid, jpegls.sop_uid, [1],
                                               media_types=(("image/jls", JPEG_LS_LOSSLESS),)))
    assert jls == _encapsulated_frames(jpegls)
    response = httpx.get(_instance_url(loaded, jpegls) + "/frames/1")
    ((content_type, _),) = split_multipart(response)
    assert content_type == f"image/jls; transfer-syntax={JPEG_LS_LOSSLESS}"
    assert httpx.get(_instance_url(loaded, jpegls) + "/frames/1",
                     headers={"Accept": 'multipart/related; type="image/jpeg"'}).status_code == 406


@pytest.mark.parametrize("frames, status", [("4", 404), ("0", 400), ("1,x", 400)])
def test_bad_frame_numbers(loaded: Any, instances: Any, frames: str, status: int) -> None:
    response = httpx.get(_instance_url(loaded, instances["multiframe"]) + f"/frames/{frames}")
    assert response.status_code == status
    assert response.json()["error"]["status"] == status


def test_metadata_points_at_bulk_data_that_can_be_fetched(loaded: Any, instances: Any) -> None:
    client = loaded.client()
    rle = instances["rle"]
    metadata = client.retrieve_study_metadata(rle.study_uid)
    assert len(metadata) == len(STUDY1)
    (entry,) = [m for m in metadata if m["00080018"]["Value"] == [rle.sop_uid]]
    assert entry["00100010"]["Value"] == [{"Alphabetic": "PLANTED^PATIENT^NAME"}]
    assert entry["00280008"]["Value"] == [2]
    uri = entry["7FE00010"]["BulkDataURI"]
    assert uri == _instance_url(loaded, rle) + "/bulkdata/7FE00010"
    assert "InlineBinary" not in entry["7FE00010"]
    assert list(client.retrieve_bulkdata(uri)) == _encapsulated_frames(rle)  # compressed, one part per frame
    assert list(client.retrieve_bulkdata(uri, media_types=("application/octet-stream",))) == [rle.native]
    native = instances["native"]
    native_meta = client.retrieve_instance_metadata(native.study_uid, native.series_uid, native.sop_uid)
    assert list(client.retrieve_bulkdata(native_meta["7FE00010"]["BulkDataURI"])) == [native.native]
    series_meta = client.retrieve_series_metadata(rle.study_uid, instances["series2"].series_uid)
    assert [m["00080018"]["Value"] for m in series_meta] == [[instances["series2"].sop_uid]]


def test_large_binary_elements_and_nested_ones_become_bulk_data(serve: Any, stow_raw: Any, tmp_path: Any) -> None:
    from pydicom.dataset import Dataset

    from gantry.testing.datasets import make_dataset, write_dataset

    served = serve(bulkdata_threshold=64)
    dataset = make_dataset(study=4, instance=1)
    dataset.EncapsulatedDocument = bytes(range(256)) * 20      # top level, OB, 5120 bytes
    icon = Dataset()
    icon.Rows = icon.Columns = 4
    icon.BitsAllocated = icon.BitsStored = 8
    icon.HighBit, icon.PixelRepresentation, icon.SamplesPerPixel = 7, 0, 1
    icon.PhotometricInterpretation = "MONOCHROME2"
    icon.PixelData = bytes(range(32))                            # nested: always bulk data
    dataset.IconImageSequence = [icon]
    dataset.Manufacturer = "Gantry Synthetic"
    path = write_dataset(dataset, tmp_path / "bulky.dcm")
    assert stow_raw(served, [open(path, "rb").read()]).status_code == 200
    base = (f"{served.url}/studies/{dataset.StudyInstanceUID}/series/{dataset.SeriesInstanceUID}"
            f"/instances/{dataset.SOPInstanceUID}")
    (meta,) = httpx.get(base + "/metadata").json()
    assert meta["00420011"] == {"vr": "OB", "BulkDataURI": base + "/bulkdata/00420011"}
    nested = meta["00880200"]["Value"][0]["7FE00010"]
    assert nested["BulkDataURI"] == base + "/bulkdata/00880200/0/7FE00010"
    client = served.client()
    assert list(client.retrieve_bulkdata(base + "/bulkdata/00420011")) == [dataset.EncapsulatedDocument]
    assert list(client.retrieve_bulkdata(nested["BulkDataURI"])) == [icon.PixelData]
    assert httpx.get(base + "/bulkdata/00420012").status_code == 404


def test_public_root_and_derived_root(serve: Any, instances: Any, stow_raw: Any) -> None:
    behind = serve(public_root="https://pacs.example.org/proxy/dicom-web/")
    assert stow_raw(behind, [instances["native"].data]).status_code == 200
    native = instances["native"]
    (meta,) = httpx.get(_instance_url(behind, native) + "/metadata").json()
    assert meta["7FE00010"]["BulkDataURI"] == (
        f"https://pacs.example.org/proxy/dicom-web/studies/{native.study_uid}/series/{native.series_uid}"
        f"/instances/{native.sop_uid}/bulkdata/7FE00010")
    derived = serve(derive_root=True)
    assert stow_raw(derived, [native.data]).status_code == 200
    (meta,) = httpx.get(_instance_url(derived, native) + "/metadata").json()
    assert meta["7FE00010"]["BulkDataURI"] == _instance_url(derived, native) + "/bulkdata/7FE00010"


def test_wado_uri(loaded: Any, instances: Any) -> None:
    root = loaded.url.removesuffix("/dicom-web")
    rle = instances["rle"]
    params = {"requestType": "WADO", "studyUID": rle.study_uid, "seriesUID": rle.series_uid,
              "objectUID": rle.sop_uid, "contentType": "application/dicom"}
    default = httpx.get(f"{root}/wado", params=params)
    assert default.status_code == 200 and default.headers["content-type"] == "application/dicom"
    sent = dcmread(io.BytesIO(default.content))
    assert sent.file_meta.TransferSyntaxUID == EXPLICIT_VR_LITTLE_ENDIAN and sent.PixelData == rle.native
    as_stored = httpx.get(f"{root}/wado", params={**params, "transferSyntax": RLE_LOSSLESS})
    assert as_stored.content == rle.data
    native = instances["native"]
    exact = httpx.get(f"{root}/wado", params={**params, "seriesUID": native.series_uid, "objectUID": native.sop_uid})
    assert exact.content == native.data
    assert httpx.get(f"{root}/wado", params={**params, "objectUID": "1.2.3"}).status_code == 404
    assert httpx.get(f"{root}/wado", params={k: v for k, v in params.items() if k != "studyUID"}).status_code == 400
    assert httpx.get(f"{root}/wado", params={**params, "contentType": "image/jpeg"}).status_code == 406
    assert httpx.get(f"{root}/wado", params={**params, "requestType": "X"}).status_code == 400


def test_unknown_objects_are_404_with_json(loaded: Any, instances: Any) -> None:
    for path in ("/studies/1.2.3", "/studies/1.2.3/metadata", f"/studies/{instances['native'].study_uid}/series/1.2.3",
                 "/no-such-resource"):
        response = httpx.get(loaded.url + path)
        assert response.status_code == 404, path
        assert response.json()["error"]["status"] == 404


def test_an_instance_without_pixel_data(serve: Any, stow_raw: Any, tmp_path: Any) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ImplicitVRLittleEndian

    from gantry.testing.datasets import make_uid

    report = Dataset()
    report.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"  # Basic Text SR
    report.SOPInstanceUID, report.StudyInstanceUID = make_uid(5, 1, 1, 1), make_uid(5, 1)
    report.SeriesInstanceUID = make_uid(5, 1, 1)
    report.Modality, report.PatientID, report.ValueType = "SR", "SR-PATIENT", "CONTAINER"
    report.file_meta = FileMetaDataset()
    report.file_meta.MediaStorageSOPClassUID = report.SOPClassUID
    report.file_meta.MediaStorageSOPInstanceUID = report.SOPInstanceUID
    report.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    path = tmp_path / "report.dcm"
    report.save_as(path, enforce_file_format=True, implicit_vr=True)
    served = serve()
    assert stow_raw(served, [path.read_bytes()]).status_code == 200
    url = (f"{served.url}/studies/{report.StudyInstanceUID}/series/{report.SeriesInstanceUID}"
           f"/instances/{report.SOPInstanceUID}")
    ((content_type, content),) = split_multipart(httpx.get(url, headers={"Accept": AS_STORED}))
    assert content_type.endswith(EXPLICIT_VR_LITTLE_ENDIAN)  # re-encoded: implicit VR is not for the web
    sent = dcmread(io.BytesIO(content))
    assert sent.file_meta.TransferSyntaxUID == EXPLICIT_VR_LITTLE_ENDIAN and sent.ValueType == "CONTAINER"
    assert httpx.get(url + "/frames/1").status_code == 404
    (meta,) = httpx.get(url + "/metadata").json()
    assert meta["0040A040"]["Value"] == ["CONTAINER"] and "7FE00010" not in meta
    compressed = httpx.get(url, headers={"Accept": f'multipart/related; type="application/dicom"; transfer-syntax={RLE_LOSSLESS}'})
    assert compressed.status_code == 406
