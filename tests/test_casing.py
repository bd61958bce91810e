import pytest

from titlegen.casing import build_lexicon, detokenize, restore_case


@pytest.mark.parametrize("raw,clean", [
    ("it ' s a $ 5 deal !", "it's a $5 deal!"),
    ("what ' s new in the u . s . ?", "what's new in the u.s.?"),
    ("prices rise 3 . 5 % , again", "prices rise 3.5%, again"),
    ("a well - known ( and loved ) cafe", "a well-known (and loved) cafe"),
    ("you won ' t believe this", "you won't believe this"),
    ("russia says u. s. ' s plan", "russia says u.s.'s plan"),
    ("l ' equipe de l ' un", "l'equipe de l'un"),
])
def test_detokenize(raw, clean):
    assert detokenize(raw) == clean


def test_restore_case_uses_brief_then_lexicon_then_style():
    brief = "Our new LUMA lamp pairs with the iPhone."
    assert restore_case("luma lamp for the iphone", brief=brief, casing="title") == "LUMA Lamp for the iPhone"
    assert restore_case("nasa picks a lamp", lexicon={"nasa": "NASA"}, casing="sentence") == "NASA picks a lamp"
    assert restore_case("why? because you matter", casing="sentence") == "Why? Because you matter"
    assert restore_case("Already Cased", casing="sentence") == "Already Cased"
    assert restore_case("the u.s.'s plan isn't new", casing="title") == "The U.S.'s Plan Isn't New"


def test_build_lexicon_keeps_unusual_spellings_only():
    titles = ["Why the iPhone is late again", "A new iPhone for you at last", "The iPhone and me and you",
              "Where NASA goes next year", "How NASA works on the moon", "Why NASA said no to that",
              "Apple shares rise today", "The Title Case House Of Cards", "A house is not a home"]
    lex = build_lexicon(titles)
    assert lex["iphone"] == "iPhone" and lex["nasa"] == "NASA"
    assert "today" not in lex and "house" not in lex
