"""SentencePiece reference ids for a 32000-piece vocabulary given as a Hugging Face tokenizer.json.

Builds a SentencePiece BPE ModelProto from the tokenizer.json (refcommon.sentencepiece_proto; scores
from the merge ranks), encodes every string of testdata/tokenizer/corpus.json with the sentencepiece
library (no BOS/EOS), cross-checks Hugging Face tokenizers on the same file, and writes
testdata/tokenizer/<name>.ref.json under --out. The tokenizer.json itself is not stored.

  python3 reference/make_tokenizer_reference.py --tokenizer-json .refinputs/llama2-real-tokenizer.json \
      --name llama2 --source "npm llama-tokenizer-js@1.2.2 via reference/llama2/tokenizer-json.mjs" --out OUT
"""
import argparse
import hashlib
import json
import os

import refcommon as rc
from make_reference import tokenizer_cases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tokenizer-json", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--source", required=True, help="where the tokenizer.json came from (recorded)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    with open(a.tokenizer_json, encoding="utf-8") as f:
        tj = json.load(f)
    with open(os.path.join(rc.REPO, "testdata", "tokenizer", "corpus.json"), encoding="utf-8") as f:
        texts = json.load(f)
    pieces = rc.pieces_from_hf_tokenizer_json(tj)
    sp = rc.load_sp(proto=rc.sentencepiece_proto(pieces, len(pieces)))
    cases = tokenizer_cases(sp, texts)
    hello = [int(i) for i in sp.encode("Hello world")]
    rc.log("%s: 'Hello world' -> %s" % (a.name, hello))
    disagreements = 0
    try:
        from tokenizers import Tokenizer
        hf = Tokenizer.from_file(a.tokenizer_json)
        for c in cases:
            hid = list(hf.encode(c["text"], add_special_tokens=False).ids)
            if hid != c["ids"]:
                c["hf_ids"] = hid
                disagreements += 1
                rc.log("  DISAGREE %r sp=%s hf=%s" % (c["text"], c["ids"], hid))
        hf_checked = True
    except Exception as e:  # pragma: no cover - recorded in the output
        rc.log("HF tokenizers unavailable: %r" % (e,))
        hf_checked = False
    with open(a.tokenizer_json, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    os.makedirs(os.path.join(a.out, "testdata", "tokenizer"), exist_ok=True)
    rc.write_json(os.path.join(a.out, "testdata", "tokenizer", a.name + ".ref.json"), {
        "model": a.name,
        "source": a.source,
        "tokenizer_json_sha256": digest,
        "hello_world_ids": hello,
        "scores": "piece made by merges: -(rank of the first merge producing it); other normal pieces: "
                  "-(n_merges + id); special/byte: 0",
        "corpus": "testdata/tokenizer/corpus.json",
        "encoding": "sentencepiece encode without BOS/EOS; decoded = decode(ids); hf_ids = Hugging Face "
                    "tokenizers encode(add_special_tokens=False) where it differs",
        "generator": "reference/make_tokenizer_reference.py",
        "versions": rc.versions(),
        "hf_checked": hf_checked,
        "disagreements": disagreements,
        "cases": cases,
    })


if __name__ == "__main__":
    main()
