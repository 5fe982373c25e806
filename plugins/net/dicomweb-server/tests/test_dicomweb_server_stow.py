"""STOW-RS: durable storage before the answer, the PS3.18 response, and bad bodies storing nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gantry_dicomweb_server.testing import multipart_body


def test_store_instances_with_dicomweb_client_indexes_audits_and_answers(serve: Any, instances: Any) -> None:
    from pydicom import dcmread

    served = serve()
    client = served.client()
    names = ("native", "rle", "jpegls")
    datasets = [dcmread(instances[name].path) for name in names]
    answer = client.store_instances(datasets)

    referenced = answer.ReferencedSOPSequence
    assert [item.ReferencedSOPInstanceUID for item in referenced] == [instances[n].sop_uid for n in names]
    assert [item.ReferencedSOPClassUID for item in referenced] == [str(d.SOPClassUID) for d in datasets]
    study = instances["native"].study_uid
    assert referenced[0].RetrieveURL == (f"{served.url}/studies/{study}/series/{instances['native'].series_uid}"
                                         f"/instances/{instances['native'].sop_uid}")
    assert answer.RetrieveURL == f"{served.url}/studies/{study}"
    assert "FailedSOPSequence" not in answer
    rows = served.query("instance")
    assert sorted(row["SOPInstanceUID"] for row in rows) == sorted(instances[n].sop_uid for n in names)
    syntaxes = {row["SOPInstanceUID"]: row["transfer_syntax_uid"] for row in rows}
    assert syntaxes[instances["rle"].sop_uid] == instances["rle"].syntax
    assert syntaxes[instances["jpegls"].sop_uid] == instances["jpegls"].syntax
    for row in rows:  # every indexed location is a stored file inside the store
        assert served.store in __import__("pathlib").Path(row["location"]).parents
    audit = served.audit()
    assert [(row.event.action, row.event.sop_instance_uid) for row in audit] == \
        [("received", instances[n].sop_uid) for n in names]
    assert all(row.event.actor == "dicomweb:127.0.0.1" for row in audit)
    assert served.server.context.backend.verify_audit().ok


def test_raw_bytes_are_stored_byte_for_byte(serve: Any, instances: Any, stow_raw: Any) -> None:
    served = serve()
    response = stow_raw(served, [instances["rle"].data, instances["multiframe"].data])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/dicom+json")
    by_uid = {row["SOPInstanceUID"]: row for row in served.query("instance")}
    for name in ("rle", "multiframe"):
        stored = by_uid[instances[name].sop_uid]
        assert open(stored["location"], "rb").read() == instances[name].data


def test_store_into_a_named_study_refuses_other_studies(serve: Any, instances: Any, stow_raw: Any) -> None:
    served = serve()
    study = instances["native"].study_uid
    response = stow_raw(served, [instances["native"].data, instances["other"].data], study=study)
    assert response.status_code == 202, response.text  # some stored, some failed
    answer = response.json()
    failed = answer["00081198"]["Value"]
    assert [item["00081155"]["Value"][0] for item in failed] == [instances["other"].sop_uid]
    assert failed[0]["00081197"]["Value"] == [0xA900]
    assert [item["00081155"]["Value"][0] for item in answer["00081199"]["Value"]] == [instances["native"].sop_uid]
    assert [row["SOPInstanceUID"] for row in served.query("instance")] == [instances["native"].sop_uid]

    only_wrong = stow_raw(served, [instances["other"].data], study=study)
    assert only_wrong.status_code == 409
    assert "00081199" not in only_wrong.json()


def test_unreadable_part_and_conflicting_duplicate_fail_with_their_reasons(serve: Any, instances: Any,
                                                                            stow_raw: Any) -> None:
    served = serve()
    assert stow_raw(served, [instances["native"].data]).status_code == 200
    again = stow_raw(served, [instances["native"].data])  # identical bytes: stored once, success
    assert again.status_code == 200
    changed = bytearray(instances["native"].data)
    changed[-1] ^= 0xFF  # same SOP Instance UID, different pixel bytes
    response = stow_raw(served, [bytes(changed), b"this is not DICOM at all" * 10])
    assert response.status_code == 409
    reasons = [item["00081197"]["Value"][0] for item in response.json()["00081198"]["Value"]]
    assert reasons == [0x0111, 0xC000]
    (row,) = served.query("instance")
    assert open(row["location"], "rb").read() == instances["native"].data
    assert len(served.stored_files()) == 1


@pytest.mark.parametrize("content_type, status", [
    ("application/dicom", 415),
    ('multipart/related; type="application/dicom+json"; boundary=x', 415),
    ('multipart/related; type="application/dicom"', 400),
])
def test_wrong_content_types_store_nothing(serve: Any, instances: Any, content_type: str, status: int) -> None:
    served = serve()
    body, _ = multipart_body([instances["native"].data], boundary="x")
    response = httpx.post(served.url + "/studies", content=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert response.json()["error"]["status"] == status
    assert served.query("instance") == [] and served.stored_files() == []


def test_a_part_of_another_type_stores_nothing(serve: Any, instances: Any) -> None:
    served = serve()
    body, content_type = multipart_body([instances["native"].data])
    body += b""  # the one part says application/octet-stream
    body = body.replace(b"Content-Type: application/dicom", b"Content-Type: application/octet-stream")
    response = httpx.post(served.url + "/studies", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert served.query("instance") == [] and served.stored_files() == []


@pytest.mark.parametrize("damage", ["truncated", "no-closing-delimiter", "no-delimiter", "garbled-delimiter",
                                    "empty"])
def test_malformed_bodies_are_400_and_store_nothing(serve: Any, instances: Any, damage: str) -> None:
    served = serve()
    body, content_type = multipart_body([instances["native"].data, instances["multiframe"].data])
    if damage == "truncated":
        body = body[: len(body) // 2 + 1000]
    elif damage == "no-closing-delimiter":
        body = body[: -len(b"--gantry-test-boundary--\r\n")]
    elif damage == "no-delimiter":
        body = instances["native"].data
    elif damage == "garbled-delimiter":
        body = body.replace(b"--gantry-test-boundary\r\nContent", b"--gantry-test-boundaryXContent", 1)
    else:
        body = b"--gantry-test-boundary--\r\n"
    response = httpx.post(served.url + "/studies", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 400, response.text
    assert "nothing was stored" in response.json()["error"]["message"]
    assert served.query("instance") == [] and served.stored_files() == [] and served.audit() == []


def test_uploads_over_the_limit_are_refused_declared_or_streamed(serve: Any, instances: Any) -> None:
    served = serve(max_upload_bytes=20_000)
    big = [instances["multiframe"].data] * 20  # about 20 x 2 kB + headers: over the limit
    body, content_type = multipart_body(big)
    assert len(body) > 20_000
    declared = httpx.post(served.url + "/studies", content=body, headers={"Content-Type": content_type})
    assert declared.status_code == 413
    assert declared.json()["error"]["status"] == 413

    def chunks() -> Any:  # no Content-Length: counted while it streams
        for start in range(0, len(body), 4096):
            yield body[start:start + 4096]

    streamed = httpx.post(served.url + "/studies", content=chunks(), headers={"Content-Type": content_type})
    assert streamed.status_code == 413
    assert served.query("instance") == [] and served.stored_files() == []

    small, small_type = multipart_body([instances["native"].data])
    assert httpx.post(served.url + "/studies", content=small, headers={"Content-Type": small_type}).status_code == 200


def test_client_going_away_mid_upload_stores_nothing(serve: Any, instances: Any) -> None:
    import socket
    import time

    served = serve()
    body, content_type = multipart_body([instances["native"].data, instances["multiframe"].data])
    port = served.server.port
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall((f"POST /dicom-web/studies HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
                           + body[: len(body) - 200])
        time.sleep(0.3)
    time.sleep(0.5)
    assert served.query("instance") == [] and served.stored_files() == []
    # the server is still fine
    full = httpx.post(served.url + "/studies", content=body, headers={"Content-Type": content_type})
    assert full.status_code == 200


def test_instance_stored_event_follows_the_answer(serve: Any, instances: Any, stow_raw: Any) -> None:
    import threading

    from gantry import hookimpl

    heard: list[Any] = []
    done = threading.Event()

    class Listener:
        @hookimpl
        def gantry_instance_stored(self, instance: Any) -> None:
            heard.append(instance)
            done.set()

    served = serve()
    served.kernel.pm.register(Listener(), name="test-listener")
    response = stow_raw(served, [instances["jpegls"].data])
    assert response.status_code == 200
    assert done.wait(10)
    (record,) = heard
    assert record.attributes["SOPInstanceUID"] == instances["jpegls"].sop_uid
    assert record.transfer_syntax_uid == instances["jpegls"].syntax
    assert open(record.location, "rb").read() == instances["jpegls"].data
