"""``xds-gateway valuesets import FILE... [--into DIR]`` and ``xds-gateway valuesets list [--from DIR]``."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.valuesets import load_value_sets, read_correspondence_file, read_value_set_file

SHARED_VALUESETS = Path(__file__).resolve().parents[3] / "shared" / "data" / "valuesets"
J08 = SHARED_VALUESETS / "TestContenuCDA-3-0__JDV_J08_XdsConfidentialityCode_CISIS.xml"
J04 = SHARED_VALUESETS / "TestContenuCDA-3-0__JDV_J04_XdsPracticeSettingCode_CISIS.xml"


@pytest.fixture(autouse=True)
def plain_settings(monkeypatch, tmp_path):
    # The command line loads the gateway's settings first; keep the caller's environment out of it.
    for name in [n for n in __import__("os").environ if n.startswith("XDSGW_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("XDSGW_DATA_DIR", str(tmp_path / "var"))


def svs_file(folder: Path, name: str, oid: str, concepts: list[tuple[str, str, str]], *, mapped: bool = False) -> Path:
    if mapped:
        body = "<MappedConceptList>" + "".join(
            f'<MappedConcept><Concept code="{k}" codeSystem="{ks}"/><Concept code="{c}" codeSystem="1.2"/>'
            "</MappedConcept>" for k, ks, c in concepts) + "</MappedConceptList>"
    else:
        body = "<ConceptList>" + "".join(
            f'<Concept code="{c}" codeSystem="{s}" displayName="{d}"/>' for c, s, d in concepts) + "</ConceptList>"
    path = folder / f"{name}.xml"
    path.write_text(f'<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"><ValueSet id="{oid}" '
                    f'displayName="{name}.tabs" dateMaj="20250101120000">{body}</ValueSet></RetrieveValueSetResponse>',
                    encoding="utf-8")
    return path


def test_import_writes_one_compact_file_per_value_set_and_says_so(tmp_path, capsys):
    a = svs_file(tmp_path, "JDV_A", "1.2.3.1", [("X", "1.9", "Ex"), ("Y", "1.9", "Why")])
    b = svs_file(tmp_path, "JDV_B", "1.2.3.2", [("Z", "1.9", "Zed")])
    into = tmp_path / "sets"

    assert main(["valuesets", "import", str(a), str(b), "--into", str(into)]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"JDV_A (1.2.3.1, version 20250101120000): 2 concepts → {into / 'JDV_A.tsv'}",
        f"JDV_B (1.2.3.2, version 20250101120000): 1 concepts → {into / 'JDV_B.tsv'}",
    ]
    assert read_value_set_file(into / "JDV_A.tsv").get("Y", "1.9").display == "Why"


def test_a_second_import_replaces_the_file_and_shows_the_counts(tmp_path, capsys):
    into = tmp_path / "sets"
    main(["valuesets", "import", str(svs_file(tmp_path, "JDV_A", "1.2.3.1", [("X", "1.9", ""), ("Y", "1.9", "")])),
          "--into", str(into)])
    capsys.readouterr()
    newer = svs_file(tmp_path, "JDV_A", "1.2.3.1", [("X", "1.9", ""), ("Z", "1.9", ""), ("W", "1.9", "")])

    assert main(["valuesets", "import", str(newer), "--into", str(into)]) == 0

    assert "JDV_A (1.2.3.1, version 20250101120000): 2 → 3 concepts (+2, -1)" in capsys.readouterr().out
    assert [c.code for c in read_value_set_file(into / "JDV_A.tsv").concepts] == ["X", "Z", "W"]


def test_an_import_keeps_the_name_of_the_file_with_the_same_oid(tmp_path, capsys):
    into = tmp_path / "sets"
    into.mkdir()
    (into / "ASS_A11_ModeleCDA_FormatCode.tsv").write_text(
        "# name: ASS_A11_ModeleCDA_FormatCode\n# oid: 1.2.250.1.213.1.1.4.331\n# kind: correspondence\n"
        "key\tkeySystem\tcode\tcodeSystem\tdisplayName\n"
        "1.2.250.1.213.1.1.1.41\t1.2.250.1.213.1.1.4.328\turn:asip:ci-sis:cr-cpa:2020\t1.2\t\n"
        "# added: not in the 2024 export\n"
        "1.2.250.1.213.1.1.1.59\t1.2.250.1.213.1.1.4.328\turn:ans:ci-sis:trod:2024\t1.2\t\n", encoding="utf-8")
    official = svs_file(tmp_path, "ASS_A11-CorresModeleCDA-XdsFormatCode-CISIS", "1.2.250.1.213.1.1.4.331",
                        [("1.2.250.1.213.1.1.1.41", "1.2.250.1.213.1.1.4.328", "urn:asip:ci-sis:cr-cpa:2020")],
                        mapped=True)

    assert main(["valuesets", "import", str(official), "--into", str(into)]) == 0

    out = capsys.readouterr().out
    assert sorted(p.name for p in into.iterdir()) == ["ASS_A11_ModeleCDA_FormatCode.tsv"]
    assert "ASS_A11_ModeleCDA_FormatCode (1.2.250.1.213.1.1.4.331, version 20250101120000): 2 → 1 rows" in out
    assert ("warning: drops 1.2.250.1.213.1.1.1.59 urn:ans:ci-sis:trod:2024 1.2, added by hand "
            "(not in the 2024 export)") in out
    assert read_correspondence_file(into / "ASS_A11_ModeleCDA_FormatCode.tsv").name == "ASS_A11_ModeleCDA_FormatCode"


def test_a_bad_file_stops_the_import_before_anything_is_written(tmp_path, capsys):
    good = svs_file(tmp_path, "JDV_A", "1.2.3.1", [("X", "1.9", "")])
    bad = tmp_path / "bad.xml"
    bad.write_text("<not-svs/>")
    into = tmp_path / "sets"

    assert main(["valuesets", "import", str(good), str(bad), "--into", str(into)]) == 1

    assert f"xds-gateway: {bad}" in capsys.readouterr().err
    assert not into.exists() or not list(into.iterdir())


def test_two_files_for_the_same_value_set_are_refused(tmp_path, capsys):
    a = svs_file(tmp_path, "JDV_A", "1.2.3.1", [("X", "1.9", "")])

    assert main(["valuesets", "import", str(a), str(a), "--into", str(tmp_path / "sets")]) == 1
    assert "two of the files given are JDV_A (1.2.3.1)" in capsys.readouterr().err


def test_list_prints_name_oid_version_and_size(tmp_path, capsys):
    into = tmp_path / "sets"
    main(["valuesets", "import", str(svs_file(tmp_path, "JDV_LONGER_NAME", "1.2.3.1", [("X", "1.9", "")])),
          str(svs_file(tmp_path, "ASS_T", "1.2.3.2", [("k", "1.8", "X"), ("l", "1.8", "X")], mapped=True)),
          "--into", str(into)])
    capsys.readouterr()

    assert main(["valuesets", "list", "--from", str(into)]) == 0

    assert capsys.readouterr().out.splitlines() == [
        "name             oid      version         size",
        "ASS_T            1.2.3.2  20250101120000  2 rows",
        "JDV_LONGER_NAME  1.2.3.1  20250101120000  1 concepts",
        f"1 value sets, 1 correspondence tables in {into}",
    ]


def test_list_reports_a_bad_folder(tmp_path, capsys):
    (tmp_path / "V.tsv").write_text("# name: V\n", encoding="utf-8")

    assert main(["valuesets", "list", "--from", str(tmp_path)]) == 1
    assert f"xds-gateway: {tmp_path / 'V.tsv'}" in capsys.readouterr().err


def test_list_defaults_to_the_shipped_ci_sis_folder(capsys):
    assert main(["valuesets", "list"]) == 0

    out = capsys.readouterr().out
    assert "JDV_J07_XdsTypeCode_CISIS" in out and "ASS_X04_TypeCode_ClassCode" in out


@pytest.mark.skipif(not J08.is_file(), reason=f"the ANS SVS exports are not here ({SHARED_VALUESETS})")
def test_importing_the_ans_exports_gives_the_shipped_files(tmp_path, capsys):
    into = tmp_path / "sets"

    assert main(["valuesets", "import", str(J08), str(J04), "--into", str(into)]) == 0

    sets = load_value_sets(into)
    assert sets["JDV_J08_XdsConfidentialityCode_CISIS"].concepts[0].code == "N"
    assert len(sets["JDV_J04_XdsPracticeSettingCode_CISIS"]) == 12
    shipped = Path(__file__).resolve().parents[2] / "profiles" / "ci-sis" / "valuesets"
    for name in ("JDV_J08_XdsConfidentialityCode_CISIS.tsv", "JDV_J04_XdsPracticeSettingCode_CISIS.tsv"):
        assert (into / name).read_bytes() == (shipped / name).read_bytes()
