"""The PoET proof benchmark runs end to end at a small size (the 4M-member run is for the report)."""

from __future__ import annotations

from appliance.node import bench_poet


def test_bench_runs_and_reports_both_readers(capsys):
    results = bench_poet.run(3000, 3000)
    assert results["stream"]["members"] == results["whole"]["members"] == 3000
    assert results["stream"]["peak_rss_mib"] > 0 and results["whole"]["seconds"] >= 0
    bench_poet.main(["--members", "1000"])
    assert "whole-body peer / streaming" in capsys.readouterr().out
