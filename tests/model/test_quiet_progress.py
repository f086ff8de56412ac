"""Job logs carry our progress lines, not transformers' own tqdm bars (one smeared line per load/save)."""


def test_loading_and_saving_a_checkpoint_prints_no_library_progress_bars(micro_checkpoint, tmp_path, capfd):
    from leti.model.checkpoint import save_checkpoint
    from leti.model.loading import load_model, load_tokenizer

    capfd.readouterr()
    model, tok = load_model(str(micro_checkpoint)), load_tokenizer(str(micro_checkpoint))
    save_checkpoint(tmp_path / "copy", model, tok)
    err = capfd.readouterr().err
    assert "Loading weights" not in err and "Writing model shards" not in err and "it/s]" not in err, err
