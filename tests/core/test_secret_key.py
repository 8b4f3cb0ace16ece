"""The development SECRET_KEY is generated once per data dir, even when processes start together."""

import multiprocessing

from jasa.core.secretkey import ensure_secret_key


def _read_after(barrier, data_dir, out):
    barrier.wait()
    out.put(ensure_secret_key(data_dir))


def test_processes_starting_together_on_a_fresh_data_dir_share_one_key(tmp_path):
    ctx = multiprocessing.get_context("fork")
    n = 12
    barrier, out = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_read_after, args=(barrier, tmp_path, out)) for _ in range(n)]
    for p in procs:
        p.start()
    keys = {out.get(timeout=60) for _ in procs}
    for p in procs:
        p.join(timeout=60)
    assert len(keys) == 1 and len(keys.pop()) >= 50
    assert not list(tmp_path.glob(".secret_key.*"))  # no temp files left behind


def test_an_existing_key_is_kept(tmp_path):
    (tmp_path / "secret_key").write_text("kept-key\n")
    assert ensure_secret_key(tmp_path) == "kept-key"
