"""The demo desk's help centre (``inbox demo``): articles for the situations the desk serves,
written and published through the same actions as an author's."""

from __future__ import annotations

from sqlmodel import Session

from inbox.actions.help import ArticleFields, create_article
from inbox.actions.help_categories import access_category, rename_category
from inbox.models import Agent
from inbox.rules.help_articles import slugify

SIGNING_IN = "Signing in"
PAYMENTS = "Payments"
# The categories' names in the other locale the demo writes in.
GERMAN_NAMES = {SIGNING_IN: "Anmelden", PAYMENTS: "Zahlungen"}

DEMO_ARTICLES = [
    ArticleFields(
        title="Signing in to your account",
        slug="signing-in",
        category=SIGNING_IN,
        body_markdown="""Sign in with the email address and password you chose when you opened
your account.

1. Open the app or the website and choose **Sign in**.
2. Type your email address and your password. Passwords are case-sensitive.
3. Enter the two-factor code if we ask for one
   (see [Two-factor codes](/help/articles/two-factor-codes)).

If the password is not accepted, [reset it](/help/articles/password-reset). After several wrong
attempts the account is locked for a while: see [A locked account](/help/articles/locked-account).
""",
    ),
    ArticleFields(
        title="Two-factor codes",
        slug="two-factor-codes",
        category=SIGNING_IN,
        body_markdown="""A two-factor code proves that it is really you signing in, even if
someone knows your password.

- Codes from an authenticator app change every **30 seconds**; use the one shown now.
- Codes sent by text message are valid for **10 minutes** and work once.
- Check that your phone's clock is set automatically: a clock that is a few minutes off makes
  app codes fail.

**We will never ask you for a code by phone, chat or email.** Anyone who does is not us: do not
give it.

Lost your phone? Use one of your recovery codes, or write to us and we will verify your identity
before helping.
""",
    ),
    ArticleFields(
        title="Resetting your password",
        slug="password-reset",
        category=SIGNING_IN,
        body_markdown="""1. Choose **Forgot password?** on the sign-in page.
2. Type the email address of your account. We send a link to it if the account exists.
3. Open the link within **one hour** and choose a new password of at least 12 characters.

The link works once. If it has expired, ask for a new one. Did not get the mail? Look in your spam
folder, and check that you typed the address you use with us.
""",
    ),
    ArticleFields(
        title="A locked account",
        slug="locked-account",
        category=SIGNING_IN,
        body_markdown="""After too many wrong passwords or codes, we lock the account to protect it.

- Wait **15 minutes**, then sign in again with the right password.
- If you no longer know the password, [reset it](/help/articles/password-reset) instead of
  trying again.
- If the account stays locked, write to us. We unlock it only after proving your identity with a
  code
  sent to the phone number or address already on file, never because someone asks in a message.
""",
    ),
    ArticleFields(
        title="A purchase you do not recognise",
        slug="unrecognised-purchase",
        category=PAYMENTS,
        body_markdown="""Seeing a payment you do not remember?

1. Check the merchant name and date: shops often bill under a company name that differs from the
   shop's.
2. Ask the people who share your card or your account.
3. Still unknown? **Block your card** in the app at once, then write to us with the date and amount.

We open a dispute with the merchant and tell you what happens next. Never send us your full card
number: its last four digits are enough.
""",
    ),
    ArticleFields(
        title="Changing an instalment date",
        slug="instalment-date",
        category=PAYMENTS,
        body_markdown="""You can move the date of your monthly instalment once per plan.

1. Open **Payments, then Instalments** in the app.
2. Choose the plan and **Change date**.
3. Pick a day between the 1st and the 28th.

The new date applies from the next instalment that is at least **five working days** away. An
instalment already due is still collected on its old date.
""",
    ),
    ArticleFields(
        title="Anmelden bei Ihrem Konto",
        slug="signing-in",
        category=SIGNING_IN,
        locale="de",
        body_markdown="""Melden Sie sich mit Ihrer E-Mail-Adresse und Ihrem Passwort an.

1. Wählen Sie **Anmelden** in der App oder auf der Website.
2. Geben Sie E-Mail-Adresse und Passwort ein. Groß- und Kleinschreibung zählen.
3. Geben Sie den Zwei-Faktor-Code ein, wenn wir danach fragen.
""",
    ),
    ArticleFields(
        title="Ein gesperrtes Konto",
        slug="locked-account",
        category=SIGNING_IN,
        locale="de",
        body_markdown="""Nach zu vielen falschen Passwörtern oder Codes sperren wir das Konto zu
Ihrem Schutz.

- Warten Sie **15 Minuten** und melden Sie sich dann mit dem richtigen Passwort an.
- Bleibt das Konto gesperrt, schreiben Sie uns. Wir entsperren es erst, nachdem Sie Ihre
  Identität bestätigt haben.
""",
    ),
]


def load_help_articles(session: Session, author: Agent) -> int:
    """Writes and publishes the demo articles, and names their categories in German too;
    returns how many articles."""
    for fields in DEMO_ARTICLES:
        create_article(session, actor=author, fields=fields, status="published")
    for name, german in GERMAN_NAMES.items():
        category = access_category(session, slugify(name))
        rename_category(session, category, actor=author, names={"de": german})
    return len(DEMO_ARTICLES)
