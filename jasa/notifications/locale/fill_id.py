"""Fill the Indonesian catalog from the table below (run after makemessages; then compilemessages)."""

import pathlib
import re

ID = {
    "Notifications": "Notifikasi",
    "Email": "Email",
    "WhatsApp": "WhatsApp",
    "SMS": "SMS",
    "Console (development)": "Konsol (pengembangan)",
    "queued": "dalam antrean",
    "sending": "sedang dikirim",
    "sent": "terkirim",
    "failed": "gagal",
    "channel": "saluran",
    "recipient": "penerima",
    "language": "bahasa",
    "template": "templat",
    "context": "konteks",
    "dedupe key": "kunci deduplikasi",
    "attachments": "lampiran",
    "status": "status",
    "attempts": "percobaan",
    "last error": "galat terakhir",
    "subject": "subjek",
    "sent at": "dikirim pada",
    "body": "isi",
    "Hello %(name)s,": "Halo %(name)s,",
    "This is a test message from %(workspace)s. If you can read it, notifications reach you.":
        "Ini pesan uji dari %(workspace)s. Jika Anda dapat membacanya, notifikasi sampai kepada Anda.",
    "Test message from %(name)s": "Pesan uji dari %(name)s",
    "Outbox": "Kotak keluar",
    "Messages sent by this business, newest first.": "Pesan yang dikirim bisnis ini, terbaru di atas.",
    "Time": "Waktu",
    "Channel": "Saluran",
    "Message": "Pesan",
    "Recipient": "Penerima",
    "Status": "Status",
    "Attempts": "Percobaan",
    "Error": "Galat",
    "Retry": "Kirim ulang",
    "No messages yet.": "Belum ada pesan.",
    "All statuses": "Semua status",
    "Filter": "Saring",
    "Send a test message to me": "Kirim pesan uji ke saya",
    "The message is queued for sending again.": "Pesan masuk antrean untuk dikirim ulang.",
    "A test message is on its way to %(email)s.": "Pesan uji sedang dikirim ke %(email)s.",
    "next try %(time)s": "coba lagi %(time)s",
    "Previous": "Sebelumnya",
    "Next": "Berikutnya",
    "Notification templates": "Templat notifikasi",
    "Pages": "Halaman",
}


def fill(po: pathlib.Path) -> None:
    text = po.read_text()

    def repl(match: re.Match) -> str:
        msgid = "".join(re.findall(r'"(.*)"', match.group(1)))
        value = ID.get(msgid.replace('\\"', '"'))
        if value is None:
            return match.group(0)
        return f'{match.group(1)}msgstr "{value}"\n'

    text = re.sub(r'(msgid (?:".*"\n)+)msgstr ""\n(?!")', repl, text)
    text = text.replace("#, fuzzy\n", "")
    po.write_text(text)


if __name__ == "__main__":
    fill(pathlib.Path(__file__).parent / "id" / "LC_MESSAGES" / "django.po")
