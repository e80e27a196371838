"""Security review, round 4: request bodies, workbooks and mappings that cost far more to read
than they weigh, and headers a client can forge."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_helpers import csrf_of, signed_in_client

from workbench.sources.tabular import MappingError, TableError, load_mapping
from workbench.web.uploads import Upload, check_table_upload

MAPPINGS = Path(__file__).resolve().parents[1] / "fixtures" / "mappings"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_chunked_body_over_the_limit_is_refused_before_anyone_reads_it(db_url, monkeypatch):
    """No Content-Length to refuse it by: the bytes are counted as they come, before the CSRF check
    (which would read a form) or the JSON parser see them."""
    from workbench.settings import reset_settings
    from workbench.web.app import create_app

    monkeypatch.setenv("WORKBENCH_UPLOAD_MAX_BYTES", "1000")
    reset_settings()
    client = TestClient(create_app())

    def body():
        for _ in range(40):
            yield b"x" * 16 * 1024

    response = client.post("/api/entities", content=body(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "Too Large" in response.text
    assert "content-length" not in {k.lower() for k in response.request.headers}


def test_a_chunked_body_under_the_limit_still_goes_through(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    payload = b'{"kind": "Person", "properties": {"name": ["FICTIONAL Chunked Person"]}}'
    response = client.post("/api/entities", content=iter([payload[:20], payload[20:]]),
                           headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text


def _bomb(strings: int) -> bytes:
    """The shipped FICTIONAL workbook with millions of repeated shared strings added: it packs small."""
    source = (MAPPINGS / "mx_asset_declaration_FICTIONAL.xlsx").read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as original, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in original.infolist():
            if item.filename != "xl/sharedStrings.xml":
                bomb.writestr(item, original.read(item.filename))
        bomb.writestr("xl/sharedStrings.xml", '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                      + "<si><t>FICTIONAL</t></si>" * strings + "</sst>")
    return out.getvalue()


def test_a_workbook_that_unpacks_hundreds_of_times_its_size_is_refused_unopened():
    data = _bomb(400_000)
    mapping = load_mapping((MAPPINGS / "mx_asset_declaration.yml").read_text(encoding="utf-8"))
    with pytest.raises(TableError, match=r"roll\.xlsx: the workbook unpacks to \d+ MB from \d+ KB"):
        check_table_upload(Upload(data, "roll.xlsx", XLSX), mapping)


def test_the_shipped_workbook_passes_the_unpacked_size_check():
    data = (MAPPINGS / "mx_asset_declaration_FICTIONAL.xlsx").read_bytes()
    mapping = load_mapping((MAPPINGS / "mx_asset_declaration.yml").read_text(encoding="utf-8"))
    check_table_upload(Upload(data, "declaracion.xlsx", XLSX), mapping)


def test_yaml_aliases_are_refused_in_a_mapping_naming_the_line():
    laughs = "\n".join(["a0: &a0 [APN]"] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)])
    text = laughs + "\nentities:\n  parcel:\n    kind: RealEstate\n    keys: *a8\n    properties: {name: APN}\n"
    with pytest.raises(MappingError, match=r"roll\.yml, line 2: invalid YAML: aliases \(\*name\) are not allowed"):
        load_mapping(text, "roll.yml")


def test_a_huge_page_number_shows_the_last_page_not_an_error(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    response = client.get("/entities", params={"page": 10**30})
    assert response.status_code == 200
    assert client.get("/api/citations", params={"source_id": "x", "offset": 10**30}).status_code == 422


def test_forwarded_addresses_are_believed_only_from_configured_proxies(monkeypatch):
    from workbench.cli import proxy_options
    from workbench.settings import reset_settings

    monkeypatch.delenv("WORKBENCH_TRUSTED_PROXIES", raising=False)
    reset_settings()
    assert proxy_options()["proxy_headers"] is False
    monkeypatch.setenv("WORKBENCH_TRUSTED_PROXIES", "10.0.0.5")
    reset_settings()
    assert proxy_options() == {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.5"}


@pytest.mark.parametrize("path", ["/login", "/reconcile", "/screening"])
def test_a_chunked_form_over_the_limit_is_a_413_on_form_pages_too(db_url, monkeypatch, path):
    from workbench.settings import reset_settings

    monkeypatch.setenv("WORKBENCH_UPLOAD_MAX_BYTES", "1000")
    reset_settings()
    client = signed_in_client(db_url, "rita", "researcher")
    token = csrf_of(client, "/")

    def body():
        yield f"csrf_token={token}&mapping_text=".encode()
        for _ in range(40):
            yield b"x" * 16 * 1024

    response = client.post(path, content=body(), headers={"content-type": "application/x-www-form-urlencoded",
                                                          "X-CSRF-Token": token})
    assert response.status_code == 413
