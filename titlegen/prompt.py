"""The one prompt format that carries a brief and its controls to a decoder-only (causal) model.

The same text is used at training and at inference, so a LoRA adapter learns to obey the controls. It is a chat
turn in the model's own chat template: a short fixed system line, then one user line::

    style: lifestyle | audience: anyone | points: none | max: 20 | lang: zh | brief: 这款降噪耳机续航四十小时...

``style`` is a preset tag, ``audience`` free text (``anyone`` when not given), ``points`` the selling points joined
by ``"; "`` (``none``), ``max`` the title's limit in display characters (:func:`titlegen.language.display_length`),
``lang`` the title's language code (``zh`` or ``en``, already resolved from the brief when the control is
``auto``). The assistant's answer is the title alone, ended by the template's end-of-turn token.

Seq2seq bases keep their own one-line source format (:func:`titlegen.controls.encode_source`).
"""

from __future__ import annotations

from titlegen.controls import Controls, clean_field, get_style

#: Kept short on purpose: every training step and every generation pays for its tokens.
SYSTEM_PROMPT = ("Write one title for a social media post from the brief. Obey style, audience, points, "
                 "max (characters) and lang. Use only facts from the brief.")

#: Briefs are cut to this many characters in the prompt: the context is not the limit, speed is, and the opening of a brief says most of what a title needs.
MAX_PROMPT_BRIEF_CHARS = 200


def control_line(brief: str, controls: Controls, *, language: str, limit: int | None = None) -> str:
    """The user line of the prompt (see the module docstring).

    Args:
        brief: the validated brief.
        controls: the request's controls.
        language: the resolved title language (``zh`` or ``en``).
        limit: the ``max`` to write; default ``controls.limit`` (training writes the limit the pair was given).
    """
    points = "; ".join(clean_field(p) for p in controls.selling_points if p.strip()) or "none"
    fields = (
        f"style: {get_style(controls.style).tag}",
        f"audience: {clean_field(controls.audience) or 'anyone'}",
        f"points: {points}",
        f"max: {controls.limit if limit is None else limit}",
        f"lang: {language}",
        f"brief: {clean_field(brief)[:MAX_PROMPT_BRIEF_CHARS]}",
    )
    return " | ".join(fields)


def chat_prompt(tokenizer, line: str) -> str:
    """``line`` wrapped in the tokenizer's chat template, ending where the assistant's title begins.

    A tokenizer without a chat template (tiny test tokenizers, plain LMs) gets ``system\\nuser\\n`` lines and a
    ``title:`` cue, the same at training and inference.
    """
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": line}]
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return f"{SYSTEM_PROMPT}\n{line}\ntitle: "


def end_of_title(tokenizer) -> str:
    """The text that ends an assistant turn (appended to training targets): the template's end-of-turn token, or
    the tokenizer's EOS token."""
    if getattr(tokenizer, "chat_template", None) and "<|im_end|>" in tokenizer.get_vocab():
        return "<|im_end|>"
    return tokenizer.eos_token or ""


#: Tokens kept from the end of a prompt that is cut: the end of the user turn and the assistant cue.
_CUE_TOKENS = 8


def cut_prompt_ids(ids: list[int], max_tokens: int) -> list[int]:
    """A prompt's token ids cut to ``max_tokens`` by dropping the end of the brief: the system line and the
    controls (the head) and the assistant cue (the last few tokens) are kept, the same at training and inference."""
    if len(ids) <= max_tokens:
        return ids
    return ids[: max_tokens - _CUE_TOKENS] + ids[-_CUE_TOKENS:]
