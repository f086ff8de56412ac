"""Data root, pinned checksums and file access for the real benchmarks.

The project never copies benchmark data into the repository: it reads the read-only files
under a configurable *data root* (default: ``$LETI_DATA_ROOT`` or ``<repo>/../shared/data``).
Every file is checked against

1. the sha256 pinned in this module (``PINNED_SHA256``), and
2. the ``SHA256SUMS`` manifest that ships in the file's dataset folder,

before it is parsed. A missing or corrupt file is a one-line :class:`UserError` naming it.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from leti.core import paths
from leti.core.errors import UserError
from leti.core.io import sha256_file
from leti.core.paths import ENV_DATA_ROOT

# sha256 of every data file the harness reads, relative to the data root. Generated from the
# SHA256SUMS files of ../shared/data (see its README.md for the upstream provenance).
PINNED_SHA256: dict[str, str] = {
    "mbpp/mbpp.jsonl": "ccf64ceae9c5403bf50a044cb6d505bfd2a2963ee58338ba268fd65beab92a9f",
    "mbpp/sanitized-mbpp.json": "ca95deaa9a01ef0a6f439f88bcf0dd3db3563d22f22aad6cae04ebb9a8d8c8e9",
    "humaneval/HumanEval.jsonl.gz": "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef",
    "gsm8k/test.jsonl": "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14",
    "gsm8k/train.jsonl": "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465",
    "gsm8k-pal/gsm.jsonl": "1ad9f97f4842ea06c1a06d5e4c4815da97d311ba94ec96f8c436def5d269927c",
    "gsm8k-pal/math_prompt.txt": "15d580a1389a9a6afb21e3c58f90f1b9db794bee7dfc5113aa92c98156b97225",
    "gsm8k-pal/math_prompt_leti.txt": "8cd54e7707153c2d0a314564e7bf452a5de8a8e636c2e7d1ff3ec2e46594c316",
    "bbh/bbh/boolean_expressions.json": "ea6c754ec005e2d3f2d085d349a740f593b5764f32ea4638ffed4cfc0061b12a",
    "bbh/bbh/causal_judgement.json": "6e8bca44dd402008ed41c07a3d0a1d5e7b03db7001a7e002fcdf4c60985ea081",
    "bbh/bbh/date_understanding.json": "0148d4ac5fca05b2f82373e5fef7208e15363b9c6079493034d77b3dab496bf5",
    "bbh/bbh/disambiguation_qa.json": "cf06df9ebf911b883671cb1b35d3fbd1a1c306b19b9e9a012407e596c85fe8c6",
    "bbh/bbh/dyck_languages.json": "3f9badedf15c2be1ce53d94fdf016299bb30ba231ef087ab9f51a7ed6d0bdc25",
    "bbh/bbh/formal_fallacies.json": "4c1adb664821157faade1d4153685403afcc02648f3c180a608a18f17f589629",
    "bbh/bbh/geometric_shapes.json": "07be68a124420caa2ebc0b2c858ad79fc55c5c8806170e496e1e17ebfb11f31c",
    "bbh/bbh/hyperbaton.json": "b6d7f55c75f5d02f2987a4f3123802dfa093872089a56a334144aae8a7264fdc",
    "bbh/bbh/logical_deduction_five_objects.json": "d2df31394b903b7f0e085d42a69572a092987856eac076799017d70ef266fa8f",
    "bbh/bbh/logical_deduction_seven_objects.json": "2896c7e3482eea318dd37bcc370d24ec3cc91e8374c1784287b5dbd38a529e33",
    "bbh/bbh/logical_deduction_three_objects.json": "e590fae72e3a6041fbd23bd8ff6b74baf44ca563f6ba40a041c55e7b867c1681",
    "bbh/bbh/movie_recommendation.json": "a8b53a87ee21a865b7248e694f388a9b8f7cf6b839b11d44796a2dd3fc088983",
    "bbh/bbh/multistep_arithmetic_two.json": "c9d5a6433c9b78256422a15c78463949c8bec8d85607aa28b52d7234ad4a8595",
    "bbh/bbh/navigate.json": "b7944dfd3c81da5c4815bd75b00d6fa3c64140823498e78ed496f4c3d36f7f0d",
    "bbh/bbh/object_counting.json": "8acef14dbbdd40d2326ef7755750b6b5fe919fef06276af1bab3f1c297f022ff",
    "bbh/bbh/penguins_in_a_table.json": "bb87ee449698eee51215e025a453b1bcb2f5e6589c2063b2c79e68b8f0655228",
    "bbh/bbh/reasoning_about_colored_objects.json": "0a8850cf95166020fce7a78244026ceedd7ea839302471512b4f8744e85a6a49",
    "bbh/bbh/ruin_names.json": "b6f723aef2bafdd4c7bfc3c7e0329c7e8a8279391a609969c8ed76c9319f5f7f",
    "bbh/bbh/salient_translation_error_detection.json": "becf3eb8dd53c821a555ecd5c1334ecd93eb25f980e63be963c518e7138de5da",
    "bbh/bbh/snarks.json": "54a0661fe2de06167645a4965e6bcf963c4ba307e76262a7c750998b0e3d0d0e",
    "bbh/bbh/sports_understanding.json": "63ca262858f6176864515cd8cf53cdaa40839ebecc155b726d77930855d167bf",
    "bbh/bbh/temporal_sequences.json": "92a1189faaa84aacc4c405aaa13f13f48c2992eb884772eedb622505252baef5",
    "bbh/bbh/tracking_shuffled_objects_five_objects.json": "2063a46a4fb484236ed4310523606543a3e1dd4a4dc34eda65d407910ece25a5",
    "bbh/bbh/tracking_shuffled_objects_seven_objects.json": "b59fd05b850c37cf57cb514ae1e6975c00b1638ade2291722056b2af3c54084d",
    "bbh/bbh/tracking_shuffled_objects_three_objects.json": "546cc7bf10c6a01a6a4c17ae28a4966485f21f29fd5d111f37858ec78e354f6b",
    "bbh/bbh/web_of_lies.json": "3e60323f8514a107fdb4edf35f8832a9171c5a09c0eaa47823559de905e8ab8b",
    "bbh/bbh/word_sorting.json": "2a6132d2c99f00d0d2eb1113ac6b4a918bd969d863c48749210d969713db8d43",
    "bbh/cot-prompts/boolean_expressions.txt": "685affba97425cdf3549d5d313ba876caed2fa7c8a4cf1ea7549faf22179609d",
    "bbh/cot-prompts/causal_judgement.txt": "14377e36cccb084b7d0fe73988d08696f7675d712b02d3ae1f5f7f12c77028ea",
    "bbh/cot-prompts/date_understanding.txt": "a0a13c392f689a1828f5f6ffb9dee3d44483794490da5d92f0e2a723787b1cfb",
    "bbh/cot-prompts/disambiguation_qa.txt": "794fd259297972a4c963a5d13a84dc221edde460de27fa5d8fd64299a2001597",
    "bbh/cot-prompts/dyck_languages.txt": "b0836603007ec659ed685458647fb6d7543543304e7aca909b995d0c3aff22b2",
    "bbh/cot-prompts/formal_fallacies.txt": "10c06cc362520e9b8dddfc4861e263ff668d228a52d958dcc69f09f1d224935a",
    "bbh/cot-prompts/geometric_shapes.txt": "f36d9893507eb518d84f388fb677dc0226c74a98873700de0b556548d65d3f76",
    "bbh/cot-prompts/hyperbaton.txt": "19898af91c35cb26bbdf5fdb6f6fb17e138677250332e2994005625ffb50b261",
    "bbh/cot-prompts/logical_deduction_five_objects.txt": "4ed65246c0c1c4b0b4053d784181892b842bce19cf4358c976f34b1a434ef034",
    "bbh/cot-prompts/logical_deduction_seven_objects.txt": "4ed65246c0c1c4b0b4053d784181892b842bce19cf4358c976f34b1a434ef034",
    "bbh/cot-prompts/logical_deduction_three_objects.txt": "4ed65246c0c1c4b0b4053d784181892b842bce19cf4358c976f34b1a434ef034",
    "bbh/cot-prompts/movie_recommendation.txt": "cdf765634713b057091d541b4773dd2c998f81447b0bd8564ae70be4cdf3f5d0",
    "bbh/cot-prompts/multistep_arithmetic_two.txt": "a546e0b7cde09037bc144ae5c32c9cf78dafdfac929ae76e2051b2dd8f3671ce",
    "bbh/cot-prompts/navigate.txt": "dc2fd733f1867b8c79685f15b83746064534a94bf73468341c2a9dd335be22fc",
    "bbh/cot-prompts/object_counting.txt": "e51ffc03fd713a13a379a6c938a523dfc1c2f384f2a8447bd7a12d4458f18833",
    "bbh/cot-prompts/penguins_in_a_table.txt": "33be137e76c2a6af0bbacd17a8e7a92801886c0202a45e35ea9c2a88c1f26d51",
    "bbh/cot-prompts/reasoning_about_colored_objects.txt": "e4ea02d05b13e8ed9ccc3b0d878bc4df4c5a6fb76c65d39d48d6244f7ff0b9d5",
    "bbh/cot-prompts/ruin_names.txt": "731446c6c66bb5258677af1417b599a6a5539be6d74a5afc02cf7a716444ea54",
    "bbh/cot-prompts/salient_translation_error_detection.txt": "2c8367f75092202cc507fdbfaaf037b1c1eed38e91289084439738367f0785f7",
    "bbh/cot-prompts/snarks.txt": "35084a2a0b86bc4008ab206b838c0b97dd425897dd72198137c3cefc499c0960",
    "bbh/cot-prompts/sports_understanding.txt": "2058a9bed717a6edb8ca2f815e88851436a4ee14c8b0d504ccf464865c6d0295",
    "bbh/cot-prompts/temporal_sequences.txt": "3e7ebf1e20abe3e219dc6514dcb7474d82db1b2c66acc733cd30af2e9e0b64b0",
    "bbh/cot-prompts/tracking_shuffled_objects_five_objects.txt": "2ef54cb2a72052adc3484a76209cb6a6535f194d677e79bcec2e2e71cf3768af",
    "bbh/cot-prompts/tracking_shuffled_objects_seven_objects.txt": "2ef54cb2a72052adc3484a76209cb6a6535f194d677e79bcec2e2e71cf3768af",
    "bbh/cot-prompts/tracking_shuffled_objects_three_objects.txt": "2ef54cb2a72052adc3484a76209cb6a6535f194d677e79bcec2e2e71cf3768af",
    "bbh/cot-prompts/web_of_lies.txt": "c8025ca65ab7f0897c243504c863bda043d04b6e873777536743e94023c929d0",
    "bbh/cot-prompts/word_sorting.txt": "a2cdbcfe23abaa97b9787f7c03dbf49b1cfd0ff9e63197b7884bb5cd5a096ca6",
    "bbh/direct-prompts/boolean_expressions.txt": "aa628f3334b30cd875e7f077cb0b98d341f290005a05a10b2f9d45359eb963df",
    "bbh/direct-prompts/causal_judgement.txt": "3205cd222a6794093b66c3401d5ce8d9582e69d941c9ef4813b7fb7efafb06a1",
    "bbh/direct-prompts/date_understanding.txt": "47932a0c95e11f5a18fba115cb1d58a8ed34dc5220a14a845e3a0a25a0f5eb73",
    "bbh/direct-prompts/disambiguation_qa.txt": "e4aef309d4bef416fe15b320fa014ce4949889f80fc31b241a7717a82f44536c",
    "bbh/direct-prompts/dyck_languages.txt": "6d6e3a367966c3819dcca9f8def11ed2b1c75163603ec875bf7f4cd12a025b03",
    "bbh/direct-prompts/formal_fallacies.txt": "c9d0f68bf0255466630152656f1b4ffa47a4c86a07a958d5c8e0e37ff4952042",
    "bbh/direct-prompts/geometric_shapes.txt": "37a818ecb479911a40287108b6c70f6c8c1ac1164cf69dd6d818c4b8f9bbd551",
    "bbh/direct-prompts/hyperbaton.txt": "a0ef6b40cf9b0917d2c259dfcba7743c588c9e077d7be936b7ed4020cc3cbfcd",
    "bbh/direct-prompts/logical_deduction_five_objects.txt": "75fd2b3cf29055ab9a3613bd3a1b35bdae1e53f7e65df91e200b9764052d2c93",
    "bbh/direct-prompts/logical_deduction_seven_objects.txt": "75fd2b3cf29055ab9a3613bd3a1b35bdae1e53f7e65df91e200b9764052d2c93",
    "bbh/direct-prompts/logical_deduction_three_objects.txt": "75fd2b3cf29055ab9a3613bd3a1b35bdae1e53f7e65df91e200b9764052d2c93",
    "bbh/direct-prompts/movie_recommendation.txt": "0fcdd7db772e8eb73bcc648d314ff1124357453519c854b1dd5b51aade0c30d4",
    "bbh/direct-prompts/multistep_arithmetic_two.txt": "c87a4f8581d22034b3da4374b8e05c1952c93055966ecebbe60a66c8a9781e7a",
    "bbh/direct-prompts/navigate.txt": "5260732d5fa79390106d3a707fe37102785a1ed909fc868f177e185e80d67a62",
    "bbh/direct-prompts/object_counting.txt": "53fa808c587d9d26057eb424de057d2e767eadf05a785af20a6c5d23ea80165c",
    "bbh/direct-prompts/penguins_in_a_table.txt": "4ce13f836c999a9391350fcc43b46ab33f05635c92bbc6484427045c5f3dc23f",
    "bbh/direct-prompts/reasoning_about_colored_objects.txt": "340daaf5ef02321a0c7a615e74fee46bf4bdc25d2ed02fea85d3da433c31cb02",
    "bbh/direct-prompts/ruin_names.txt": "8f34492d9c6ce04cf673942b31579ffa54ea3fcabd7f455cdbeca1b05c54fb5d",
    "bbh/direct-prompts/salient_translation_error_detection.txt": "1b8f2afb8c80c8307b0c788020f3df841bb26fcb783f7141e3b8c131f59e89dc",
    "bbh/direct-prompts/snarks.txt": "f37013895630af4a04a8e043b730c5b0fa8b42eb96c03362d672190929f31e19",
    "bbh/direct-prompts/sports_understanding.txt": "3b35d6c7d521b078557b6eb35cf1875130be964c6613218577a19a0e67ed58e2",
    "bbh/direct-prompts/temporal_sequences.txt": "983baabf1b26466338466a1bbb0ef93820abf74312fc152cb041675c0e82e0fc",
    "bbh/direct-prompts/tracking_shuffled_objects_five_objects.txt": "135364e8b2a7ec1e178e880968d26ddb391ba7855d175fd39993cbf14cbc7c38",
    "bbh/direct-prompts/tracking_shuffled_objects_seven_objects.txt": "135364e8b2a7ec1e178e880968d26ddb391ba7855d175fd39993cbf14cbc7c38",
    "bbh/direct-prompts/tracking_shuffled_objects_three_objects.txt": "61c692947be1a3cfd25632d7bb4f69dddfcb269ad912e11c9acd17bf1dae45ca",
    "bbh/direct-prompts/web_of_lies.txt": "6e9db6c9e502b00515562d107ee796e12bb10efe189f1bd992df43701b92ca7a",
    "bbh/direct-prompts/word_sorting.txt": "347da7a848e41c4e18ecf62125977aa09770dec851c39e22f7657b2332ee82e1",
}


def resolve_data_root(data_root: str | os.PathLike | None) -> Path:
    root = paths.data_root(data_root)
    if not root.is_dir():
        raise UserError(f"{root}: data root not found (set --data-root or ${ENV_DATA_ROOT})")
    return root


def _sums_manifest(folder: Path) -> dict[str, str]:
    path = folder / "SHA256SUMS"
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[1].lstrip("*")] = parts[0]
    return out


@lru_cache(maxsize=512)
def _hash_cached(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


def verified_path(data_root: str | os.PathLike | None, rel: str) -> Path:
    """Absolute path of data file `rel` after checking it exists and matches its sha256.

    The pinned hash is authoritative; the folder's SHA256SUMS must agree with it when it lists
    the file (a disagreement means the data folder was edited)."""
    root = resolve_data_root(data_root)
    path = root / rel
    if not path.is_file():
        raise UserError(f"{path}: data file missing (expected under data root {root})")
    expected = PINNED_SHA256.get(rel)
    if expected is None:
        raise UserError(f"{path}: no pinned sha256 for '{rel}' (not a known benchmark file)")
    folder, name = rel.split("/", 1)
    listed = _sums_manifest(root / folder).get(name)
    if listed is not None and listed != expected:
        raise UserError(f"{root / folder / 'SHA256SUMS'}: sha256 of '{name}' is {listed[:12]}..., pinned {expected[:12]}...")
    st = path.stat()
    actual = _hash_cached(str(path), st.st_size, st.st_mtime_ns)
    if actual != expected:
        raise UserError(f"{path}: sha256 mismatch (got {actual[:12]}..., expected {expected[:12]}...): corrupt or wrong file")
    return path


def read_text(data_root, rel: str) -> tuple[str, str]:
    """(text, sha256) of a verified data file."""
    path = verified_path(data_root, rel)
    return path.read_text(encoding="utf-8"), PINNED_SHA256[rel]
