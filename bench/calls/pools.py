"""Which clips each side of a benchmark call may say (one voice per side and call)."""

from __future__ import annotations

from bench.calls import sources
from bench.calls.script import Pools

# Allison's prompts that an agent could say on a call (asterisk-core-sounds-en)
OPERATOR_EN = [
    "followme/status", "vm-newuser", "queue-periodic-announce", "tt-allbusy", "vm-sorry", "privacy-prompt",
    "ss-noservice", "vm-msgforwarded", "priv-introsaved", "demo-moreinfo", "followme/sorry", "vm-mismatch",
    "feature-not-avail-line", "pm-invalid-option", "queue-youarenext", "vm-tmpexists", "speed-dial-empty",
    "privacy-unident", "vm-nobodyavail", "sorry-youre-having-problems",
]

OPERATOR_JA = [
    "お電話ありがとうございます。カスタマーサポートの佐藤でございます。",
    "ご本人様確認のため、お名前と生年月日をお願いいたします。",
    "ありがとうございます。ご登録の住所は東京都港区でお間違いないでしょうか。",
    "大変申し訳ございません。ただいまお調べいたしますので、少々お待ちください。",
    "お待たせいたしました。配送業者の都合で、お届けが二日ほど遅れております。",
    "かしこまりました。新しいパスワードの設定方法をご案内いたします。",
    "まず、ログイン画面の下にある、パスワードをお忘れの方、というボタンを押していただけますか。",
    "登録されているメールアドレスに、確認のコードをお送りいたしました。",
    "請求金額につきましては、先月からオプションの料金が加算されております。",
    "解約のお手続きは、マイページのご契約内容の画面から行っていただけます。",
    "恐れ入りますが、お客様番号を教えていただけますでしょうか。",
    "他にご不明な点はございますか。",
    "お問い合わせいただきありがとうございました。担当の佐藤が承りました。失礼いたします。",
    "光回線プラスプランでは、月額料金が五百円お安くなります。",
]

CUSTOMER_JA = [
    "もしもし、先週注文した商品がまだ届いていないんですけど。",
    "山田太郎です。生年月日は千九百八十五年の四月十二日です。",
    "はい、そうです。港区で合っています。",
    "いつ届くのか教えてもらえますか。明日には使いたいんです。",
    "パスワードを忘れてしまって、ログインできなくなりました。",
    "そのボタンはどこにあるんでしょうか。画面が小さくてよく見えなくて。",
    "あ、ありました。押してみます。",
    "請求金額が先月より高くなっているのはなぜでしょうか。",
    "そんなオプションを申し込んだ覚えはないんですけどね。",
    "解約の手続きをしたいのですが、どうすればいいですか。",
    "お客様番号は、いち、に、さん、よん、ご、ろくです。",
    "わかりました。ありがとうございます。",
    "それなら安心しました。助かります。",
]

BACKCHANNELS_JA = ["はい。", "ええ。", "なるほど。", "はい、はい。"]
REPLIES_JA = ["はい。", "いいえ、違います。", "大丈夫です。"]


def english_michael() -> Pools:
    """Allison (operator) and the spontaneous, disfluent MFA speaker with a cold (customer)."""
    phrases = [p for corpus in ("cold_corpus", "cold_corpus3", "acoustic_corpus") for p in sources.mfa_phrases(corpus)]
    lines = [p for p in phrases if p.duration >= 2.0]
    replies = [p for p in phrases if p.duration < 2.0]
    return Pools(
        language="en-US",
        operator_lines=[sources.asterisk(n) for n in OPERATOR_EN],
        customer_lines=lines,
        customer_backchannels=[sources.mfa_word("cold_corpus3", "alright"), sources.mfa_word("cold_corpus", "alright")],
        operator_backchannels=[sources.asterisk("auth-thankyou"), sources.asterisk("privacy-thankyou")],
        customer_replies=replies,
        operator_hold=sources.asterisk("one-moment-please"),
    )


def english_librivox() -> Pools:
    """Allison (operator) and a LibriVox reader (customer): long, fluent customer turns."""
    return Pools(
        language="en-US",
        operator_lines=[sources.asterisk(n) for n in reversed(OPERATOR_EN)],
        customer_lines=[sources.librivox(n) for n in sorted(sources.librivox_texts())],
        customer_backchannels=[],
        operator_backchannels=[sources.asterisk("auth-thankyou")],
        operator_hold=sources.asterisk("one-moment-please"),
    )


def japanese(operator_voice: str, customer_voice: str) -> Pools:
    """Japanese call-centre lines in two Kokoro voices (TTS, not human speech)."""
    return Pools(
        language="ja-JP",
        operator_lines=[sources.japanese(t, operator_voice) for t in OPERATOR_JA],
        customer_lines=[sources.japanese(t, customer_voice) for t in CUSTOMER_JA],
        customer_backchannels=[sources.japanese(t, customer_voice) for t in BACKCHANNELS_JA],
        operator_backchannels=[sources.japanese(t, operator_voice) for t in BACKCHANNELS_JA[:2]],
        customer_replies=[sources.japanese(t, customer_voice) for t in REPLIES_JA],
        operator_hold=sources.japanese("少々お待ちください。", operator_voice),
    )
