"""Write a tiny random-weight llama GGUF with fill-in-the-middle tokens, for `/infill` tests.

The model is useless as a language model (random weights), but `llama-server` loads it in
milliseconds, knows its FIM tokens (so `/infill` answers instead of 501) and streams tokens
fast, which is what the integration tests need. The file is deterministic (fixed seed) and
about 0.5 MB.

    python tests/support/gguf_fim_model.py /tmp/tiny-fim.gguf
"""

from __future__ import annotations

import string
import sys
from pathlib import Path

import numpy as np

N_EMBD = 64
N_HEAD = 4
N_HEAD_KV = 4
N_FF = 128
N_LAYER = 2
N_CTX = 2048
SEED = 1234

FIM_TOKENS = ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>", "<|file_sep|>"]


def vocabulary() -> tuple[list[str], list[float], list[int]]:
    """A sentencepiece-style vocabulary: specials, 256 byte tokens, printable characters."""
    from gguf import TokenType

    tokens = ["<unk>", "<s>", "</s>"]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [TokenType.BYTE] * 256
    pieces = ["\u2581"] + [c for c in string.printable if c not in " \t\n\r\x0b\x0c"]
    pieces += ["\u2581" + w for w in ("def", "return", "import", "print", "for", "in", "if")]
    tokens += pieces
    types += [TokenType.NORMAL] * len(pieces)
    tokens += FIM_TOKENS
    types += [TokenType.CONTROL] * len(FIM_TOKENS)
    scores = [0.0] * len(tokens)
    for i, kind in enumerate(types):
        if kind == TokenType.NORMAL:
            scores[i] = -float(len(tokens[i]))  # prefer nothing in particular, but be stable
    return tokens, scores, [int(t) for t in types]


def write_fim_model(path: str | Path) -> Path:
    """Write the model to `path` (overwriting it) and return the path."""
    import gguf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokens, scores, types = vocabulary()
    n_vocab = len(tokens)
    rng = np.random.default_rng(SEED)

    def weight(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.05).astype(np.float32)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-fim-test")
    writer.add_context_length(N_CTX)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD_KV)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    keys = gguf.Keys.Tokenizer
    writer.add_uint32(keys.FIM_PRE_ID, tokens.index("<|fim_prefix|>"))
    writer.add_uint32(keys.FIM_SUF_ID, tokens.index("<|fim_suffix|>"))
    writer.add_uint32(keys.FIM_MID_ID, tokens.index("<|fim_middle|>"))
    writer.add_uint32(keys.FIM_PAD_ID, tokens.index("<|fim_pad|>"))
    writer.add_uint32(keys.FIM_SEP_ID, tokens.index("<|file_sep|>"))

    writer.add_tensor("token_embd.weight", weight(n_vocab, N_EMBD))
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    writer.add_tensor("output.weight", weight(n_vocab, N_EMBD))
    kv = N_EMBD // N_HEAD * N_HEAD_KV
    for i in range(N_LAYER):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.attn_q.weight", weight(N_EMBD, N_EMBD))
        writer.add_tensor(f"blk.{i}.attn_k.weight", weight(kv, N_EMBD))
        writer.add_tensor(f"blk.{i}.attn_v.weight", weight(kv, N_EMBD))
        writer.add_tensor(f"blk.{i}.attn_output.weight", weight(N_EMBD, N_EMBD))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", weight(N_FF, N_EMBD))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", weight(N_FF, N_EMBD))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", weight(N_EMBD, N_FF))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


if __name__ == "__main__":
    out = write_fim_model(sys.argv[1] if len(sys.argv) > 1 else "tiny-fim.gguf")
    print(f"{out} ({out.stat().st_size} bytes)")
