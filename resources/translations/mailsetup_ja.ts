<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ja_JP">
<context>
    <name>AccountsPanel</name>
    <message>
        <source>&amp;Saved accounts</source>
        <extracomment>The list&apos;s columns.</extracomment>
        <translation>保存済みのアカウント(&amp;S)</translation>
    </message>
    <message>
        <source>The accounts Mail Setup saved on this computer, and how each one fared when it was last checked.</source>
        <translation>Mail Setup がこのコンピューターに保存したアカウントと、それぞれを前回確認したときの結果です。</translation>
    </message>
    <message>
        <source>Saved accounts</source>
        <translation>保存済みのアカウント</translation>
    </message>
    <message>
        <source>Use the arrow keys to choose an account. Press Delete to remove it.</source>
        <translation>矢印キーでアカウントを選べます。Delete キーを押すと削除できます。</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>アドレス</translation>
    </message>
    <message>
        <source>Provider</source>
        <translation>プロバイダー</translation>
    </message>
    <message>
        <source>Mail app</source>
        <translation>メールアプリ</translation>
    </message>
    <message>
        <source>Last check</source>
        <translation>前回の確認結果</translation>
    </message>
    <message>
        <source>Checked on</source>
        <translation>確認日時</translation>
    </message>
    <message>
        <source>No accounts saved yet. The accounts you set up with Mail Setup appear here.</source>
        <translation>保存済みのアカウントはまだありません。Mail Setup で設定したアカウントがここに表示されます。</translation>
    </message>
    <message>
        <source>Working</source>
        <translation>処理中</translation>
    </message>
    <message>
        <source>&amp;Try again</source>
        <translation>もう一度試す(&amp;T)</translation>
    </message>
    <message>
        <source>Try again to read the saved accounts</source>
        <translation>保存済みのアカウントをもう一度読み込む</translation>
    </message>
    <message>
        <source>&amp;Remove…</source>
        <translation>削除(&amp;R)…</translation>
    </message>
    <message>
        <source>Remove the selected account</source>
        <translation>選択したアカウントを削除</translation>
    </message>
    <message>
        <source>Remove &amp;all…</source>
        <translation>すべて削除(&amp;A)…</translation>
    </message>
    <message>
        <source>Remove all saved accounts</source>
        <translation>保存済みのアカウントをすべて削除</translation>
    </message>
    <message>
        <source>Remove account</source>
        <translation>アカウントの削除</translation>
    </message>
    <message>
        <source>Remove %1 from Mail Setup?</source>
        <translation>%1 を Mail Setup から削除しますか？</translation>
    </message>
    <message>
        <source>Mail Setup will forget the saved settings of this account and its Microsoft sign-in on this computer, and delete any password saved for it in the keyring.</source>
        <translation>Mail Setup は、このコンピューターに保存したこのアカウントの設定と Microsoft のサインイン情報を消去します。パスワードの保管庫（キーリング）にこのアカウントのパスワードが保存されている場合は、それも削除します。</translation>
    </message>
    <message>
        <source>Mail Setup will forget the saved settings of this account and delete the password saved for it in the keyring of this computer.</source>
        <translation>Mail Setup は、保存したこのアカウントの設定を消去し、このコンピューターのパスワードの保管庫（キーリング）に保存されているこのアカウントのパスワードを削除します。</translation>
    </message>
    <message>
        <source>Your mail on the server is not deleted, and the account is not removed from your mail app. Remove it there too if you no longer want it.</source>
        <translation>サーバー上のメールは削除されません。また、メールアプリからアカウントが削除されることもありません。不要な場合は、メールアプリでも削除してください。</translation>
    </message>
    <message>
        <source>Remove all accounts</source>
        <translation>すべてのアカウントの削除</translation>
    </message>
    <message>
        <source>Remove the one saved account from Mail Setup?</source>
        <translation>保存されている 1 件のアカウントを Mail Setup から削除しますか？</translation>
    </message>
    <message>
        <source>Remove all %1 saved accounts from Mail Setup?</source>
        <translation>保存されている %1 件のアカウントをすべて Mail Setup から削除しますか？</translation>
    </message>
    <message>
        <source>Mail Setup will forget the saved settings of every account, delete the passwords saved for them in the keyring of this computer, and forget their Microsoft sign-ins.</source>
        <translation>Mail Setup は、保存したすべてのアカウントの設定と Microsoft のサインイン情報を消去し、このコンピューターのパスワードの保管庫（キーリング）に保存されているそれらのパスワードを削除します。</translation>
    </message>
    <message>
        <source>Your mail on the servers is not deleted, and the accounts are not removed from your mail apps. Remove them there too if you no longer want them.</source>
        <translation>サーバー上のメールは削除されません。また、メールアプリからアカウントが削除されることもありません。不要な場合は、メールアプリでも削除してください。</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>削除</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <source>Removing %1…</source>
        <translation>%1 を削除しています…</translation>
    </message>
    <message>
        <source>Removing all saved accounts…</source>
        <translation>保存済みのアカウントをすべて削除しています…</translation>
    </message>
    <message>
        <source>%1 had already been removed.</source>
        <translation>%1 はすでに削除されていました。</translation>
    </message>
    <message>
        <source>%1 was removed.</source>
        <translation>%1 を削除しました。</translation>
    </message>
    <message>
        <source>Its password was deleted from the keyring.</source>
        <translation>このアカウントのパスワードをキーリングから削除しました。</translation>
    </message>
    <message>
        <source>Its Microsoft sign-in was forgotten.</source>
        <translation>このアカウントの Microsoft のサインイン情報を消去しました。</translation>
    </message>
    <message>
        <source>One account was removed.</source>
        <translation>1 件のアカウントを削除しました。</translation>
    </message>
    <message>
        <source>%1 accounts were removed.</source>
        <translation>%1 件のアカウントを削除しました。</translation>
    </message>
    <message>
        <source>One account could not be removed and is still in the list.</source>
        <translation>1 件のアカウントを削除できませんでした。このアカウントは一覧に残っています。</translation>
    </message>
    <message>
        <source>%1 accounts could not be removed and are still in the list.</source>
        <translation>%1 件のアカウントを削除できませんでした。これらのアカウントは一覧に残っています。</translation>
    </message>
    <message>
        <source>All saved accounts were removed.</source>
        <translation>保存済みのアカウントをすべて削除しました。</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>中止しました。</translation>
    </message>
    <message>
        <source>Unknown</source>
        <translation>不明</translation>
    </message>
    <message>
        <source>The saved accounts file could not be read. It was kept as %1, and the list starts empty.</source>
        <translation>保存済みアカウントのファイルを読み込めませんでした。ファイルは %1 として残してあります。一覧は空の状態から始まります。</translation>
    </message>
    <message>
        <source>Thunderbird</source>
        <translation>Thunderbird</translation>
    </message>
    <message>
        <source>Outlook (classic)</source>
        <translation>従来の Outlook</translation>
    </message>
    <message>
        <source>New Outlook</source>
        <translation>新しい Outlook</translation>
    </message>
    <message>
        <source>Apple Mail</source>
        <translation>Apple の「メール」</translation>
    </message>
    <message>
        <source>Another app</source>
        <translation>その他のアプリ</translation>
    </message>
    <message>
        <source>Not recorded</source>
        <translation>記録なし</translation>
    </message>
    <message>
        <source>Verified</source>
        <translation>確認済み</translation>
    </message>
    <message>
        <source>Needs sign-in</source>
        <translation>サインインが必要</translation>
    </message>
    <message>
        <source>Failing</source>
        <translation>問題あり</translation>
    </message>
    <message>
        <source>Not checked</source>
        <translation>未確認</translation>
    </message>
    <message>
        <source>Checked without signing in</source>
        <translation>サインインせずに確認</translation>
    </message>
    <message>
        <source>Every server answered and the sign-in worked.</source>
        <translation>すべてのサーバーが応答し、サインインにも成功しました。</translation>
    </message>
    <message>
        <source>The saved sign-in expired or was revoked. Sign in again.</source>
        <translation>保存されたサインイン情報の有効期限が切れたか、取り消されました。もう一度サインインしてください。</translation>
    </message>
    <message>
        <source>A check failed, for example a wrong password or a server that did not answer.</source>
        <translation>確認に失敗しました。パスワードが間違っている、サーバーが応答しないなどの原因が考えられます。</translation>
    </message>
    <message>
        <source>The account was never checked, or it was checked without signing in.</source>
        <translation>このアカウントはまだ確認されていないか、サインインせずに確認されました。</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>なし</translation>
    </message>
    <message>
        <source>an account</source>
        <translation>いずれかのアカウント</translation>
    </message>
    <message>
        <source>Another Mail Setup window or program is changing the saved accounts right now. Wait a moment, then try again.</source>
        <translation>別の Mail Setup のウィンドウまたはプログラムが、保存済みのアカウントを変更しています。しばらく待ってから、もう一度お試しください。</translation>
    </message>
    <message>
        <source>The saved accounts were written by a newer version of Mail Setup. This version leaves them unchanged; use the newer version to change them.</source>
        <translation>保存済みのアカウントは、新しいバージョンの Mail Setup で書き込まれています。このバージョンでは変更しません。変更するには、新しいバージョンを使ってください。</translation>
    </message>
    <message>
        <source>The saved accounts file could not be written. Check that the disk has free space and that you may change %1.</source>
        <translation>保存済みアカウントのファイルに書き込めませんでした。ディスクに空き容量があること、および %1 を変更する権限があることを確認してください。</translation>
    </message>
    <message>
        <source>The keyring of this computer cannot be reached, so the password saved for %1 cannot be deleted, and the account was kept. Unlock the keyring, then try again.</source>
        <translation>このコンピューターのキーリングにアクセスできないため、%1 用に保存されたパスワードを削除できません。アカウントは削除せずに残しました。キーリングのロックを解除してから、もう一度お試しください。</translation>
    </message>
    <message>
        <source>The keyring refused to delete the password saved for %1, so the account was kept. Unlock the keyring if it asks you to, then try again.</source>
        <translation>キーリングが %1 用に保存されたパスワードの削除を拒否したため、アカウントは削除せずに残しました。キーリングのロック解除を求められた場合は解除してから、もう一度お試しください。</translation>
    </message>
    <message>
        <source>The Microsoft sign-in saved for %1 could not be forgotten, so the account was kept. Try again later.</source>
        <translation>%1 用に保存された Microsoft のサインイン情報を消去できなかったため、アカウントは削除せずに残しました。しばらくしてから、もう一度お試しください。</translation>
    </message>
    <message>
        <source>The saved accounts file could not be read or changed. Check that you may change %1.</source>
        <translation>保存済みアカウントのファイルを読み込むことも変更することもできませんでした。%1 を変更する権限があることを確認してください。</translation>
    </message>
    <message>
        <source>Something unexpected went wrong. The details are in the log.</source>
        <translation>予期しない問題が発生しました。詳細はログに記録されています。</translation>
    </message>
</context>
<context>
    <name>BlockedPage</name>
    <message>
        <source>Your organisation does not allow %1 accounts to be set up with this program. Go back to use another address, or ask your helpdesk.</source>
        <translation>お使いの組織では、このプログラムで %1 のアカウントを設定することは許可されていません。戻って別のアドレスを使うか、ヘルプデスクにお問い合わせください。</translation>
    </message>
    <message>
        <source>Your organisation does not allow this account to be set up with this program. Go back to use another address, or ask your helpdesk.</source>
        <translation>お使いの組織では、このプログラムでこのアカウントを設定することは許可されていません。戻って別のアドレスを使うか、ヘルプデスクにお問い合わせください。</translation>
    </message>
</context>
<context>
    <name>CheckingPage</name>
    <message>
        <source>&amp;Try again</source>
        <translation>もう一度試す(&amp;T)</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>もう一度試す</translation>
    </message>
    <message>
        <source>C&amp;hange settings</source>
        <translation>設定を変更(&amp;H)</translation>
    </message>
    <message>
        <source>Change settings</source>
        <translation>設定を変更</translation>
    </message>
    <message>
        <source>&amp;Sign in again</source>
        <translation>もう一度サインイン(&amp;S)</translation>
    </message>
    <message>
        <source>Sign in again</source>
        <translation>もう一度サインイン</translation>
    </message>
    <message>
        <source>Show &amp;details for the helpdesk</source>
        <translation>ヘルプデスク向けの詳細を表示(&amp;D)</translation>
    </message>
    <message>
        <source>Details for the helpdesk</source>
        <translation>ヘルプデスク向けの詳細</translation>
    </message>
    <message>
        <source>Technical details of the checks</source>
        <translation>確認の技術的な詳細</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>確認しています…</translation>
    </message>
    <message>
        <source>Checking your account. This usually takes a few seconds.</source>
        <translation>アカウントを確認しています。通常は数秒で終わります。</translation>
    </message>
    <message>
        <source>Checking the servers. Your mail app signs in by itself, so this program only checks that the servers answer and are secured.</source>
        <translation>サーバーを確認しています。サインインはメールアプリが自分で行うため、このプログラムでは、サーバーが応答し、接続が保護されていることだけを確認します。</translation>
    </message>
    <message>
        <source>Everything works. Press Continue to save the account.</source>
        <translation>すべて正常に動作しています。「続ける」を押して、アカウントを保存してください。</translation>
    </message>
    <message>
        <source>The servers answer and are secured. Your mail app will sign in by itself. Press Continue to save the account.</source>
        <translation>サーバーは応答し、接続も保護されています。サインインはメールアプリが自分で行います。「続ける」を押して、アカウントを保存してください。</translation>
    </message>
    <message>
        <source>Something did not work. Below it says why and what to do. Then press Try again.</source>
        <translation>うまくいかなかった項目があります。原因と対処方法を下に表示しています。対処してから「もう一度試す」を押してください。</translation>
    </message>
    <message>
        <source>Works. Signing in worked.</source>
        <translation>正常です。サインインにも成功しました。</translation>
    </message>
    <message>
        <source>Works. The server answers and is secured.</source>
        <translation>正常です。サーバーは応答し、接続も保護されています。</translation>
    </message>
    <message>
        <source>Works.</source>
        <translation>正常です。</translation>
    </message>
    <message>
        <source>Did not work.</source>
        <translation>うまくいきませんでした。</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>中止しました。</translation>
    </message>
    <message>
        <source>Stopped. Nothing was changed. Press Try again to check again.</source>
        <translation>中止しました。何も変更されていません。もう一度確認するには「もう一度試す」を押してください。</translation>
    </message>
    <message>
        <source>Not checked.</source>
        <translation>確認していません。</translation>
    </message>
    <message>
        <source>The check could not run.</source>
        <translation>確認を実行できませんでした。</translation>
    </message>
    <message>
        <source>What to do: %1</source>
        <translation>対処方法: %1</translation>
    </message>
    <message>
        <source>The check could not run because of an error in this program. Press Try again; if it happens again, ask your helpdesk.</source>
        <translation>このプログラムのエラーのため、確認を実行できませんでした。「もう一度試す」を押してください。再び起きる場合は、ヘルプデスクにお問い合わせください。</translation>
    </message>
    <message>
        <source>Receiving mail (POP)</source>
        <translation>メールの受信（POP）</translation>
    </message>
    <message>
        <source>Receiving mail (IMAP)</source>
        <translation>メールの受信（IMAP）</translation>
    </message>
    <message>
        <source>Sending mail (SMTP)</source>
        <translation>メールの送信（SMTP）</translation>
    </message>
    <message>
        <source>Calendars (CalDAV)</source>
        <translation>カレンダー（CalDAV）</translation>
    </message>
    <message>
        <source>Contacts (CardDAV)</source>
        <translation>連絡先（CardDAV）</translation>
    </message>
    <message>
        <source>Not set up: there is no server for sending mail.</source>
        <translation>未設定です。メールを送信するサーバーがありません。</translation>
    </message>
    <message>
        <source>Not offered for this account.</source>
        <translation>このアカウントでは提供されていません。</translation>
    </message>
    <message>
        <source>Not set up.</source>
        <translation>未設定です。</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>接続しています…</translation>
    </message>
    <message>
        <source>Securing the connection…</source>
        <translation>接続を保護しています…</translation>
    </message>
    <message>
        <source>Signing in…</source>
        <translation>サインインしています…</translation>
    </message>
    <message>
        <source>Hide &amp;details</source>
        <translation>詳細を非表示(&amp;D)</translation>
    </message>
    <message>
        <source>ok</source>
        <translation>成功</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失敗</translation>
    </message>
    <message>
        <source>Server said: %1</source>
        <translation>サーバーの応答: %1</translation>
    </message>
    <message>
        <source>All checks took %1 ms.</source>
        <translation>すべての確認に %1 ms かかりました。</translation>
    </message>
    <message>
        <source>TLS: %1, %2</source>
        <translation>TLS: %1, %2</translation>
    </message>
    <message>
        <source>Certificate: %1</source>
        <translation>証明書: %1</translation>
    </message>
    <message>
        <source>Issued by: %1</source>
        <translation>発行者: %1</translation>
    </message>
    <message>
        <source>Valid from %1 to %2</source>
        <translation>有効期間: %1 ～ %2</translation>
    </message>
    <message>
        <source>Names: %1</source>
        <translation>名前: %1</translation>
    </message>
    <message>
        <source>SHA-256: %1</source>
        <translation>SHA-256: %1</translation>
    </message>
</context>
<context>
    <name>ChooseAppPage</name>
    <message>
        <source>Choose the app you will read this account&apos;s mail in. The wizard checks the account for that app and sets it up there.</source>
        <translation>このアカウントのメールを読むアプリを選んでください。選んだアプリに合わせてアカウントを確認し、そのアプリに設定します。</translation>
    </message>
    <message>
        <source>&amp;New Outlook</source>
        <translation>新しい Outlook(&amp;N)</translation>
    </message>
    <message>
        <source>C&amp;lassic Outlook</source>
        <translation>従来の Outlook(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Thunderbird</source>
        <translation>Thunderbird(&amp;T)</translation>
    </message>
    <message>
        <source>Apple &amp;Mail</source>
        <translation>Apple の「メール」(&amp;M)</translation>
    </message>
    <message>
        <source>An&amp;other app</source>
        <translation>その他のアプリ(&amp;O)</translation>
    </message>
    <message>
        <source>The new Outlook for Windows, which comes with Windows 11 and replaces Mail and Calendar.</source>
        <translation>Windows 11 に付属する新しい Outlook for Windows です。「メール」と「カレンダー」に代わるアプリです。</translation>
    </message>
    <message>
        <source>Outlook from Microsoft 365 or Office, with the File menu and Account Settings.</source>
        <translation>Microsoft 365 または Office に含まれる Outlook です。「ファイル」メニューと「アカウント設定」があります。</translation>
    </message>
    <message>
        <source>The free mail app from Mozilla.</source>
        <translation>Mozilla の無料のメールアプリです。</translation>
    </message>
    <message>
        <source>The Mail app that comes with your Mac.</source>
        <translation>Mac に付属している「メール」App です。</translation>
    </message>
    <message>
        <source>Any other mail app, or your phone. You will get the settings to enter there.</source>
        <translation>その他のメールアプリやスマートフォンです。そこに入力する設定をお知らせします。</translation>
    </message>
    <message>
        <source>Installed on this computer.</source>
        <translation>このコンピューターにインストールされています。</translation>
    </message>
</context>
<context>
    <name>DonePage</name>
    <message>
        <source>Your app password</source>
        <extracomment>Microsoft&apos;s own short link to the Outlook app for iPhone and Android (it sends each phone to its app store). Source: Microsoft&apos;s &quot;Outlook for iOS and Android&quot; product page (https://www.microsoft.com/microsoft-365/outlook-mobile-for-android-and-ios), which says &quot;Using your mobile device, go to https://aka.ms/outlookmobiledownload to get the Outlook mobile app&quot; beside its own QR code. How long a copied password stays on the clipboard, in milliseconds. How long a copied password stays on the clipboard (tests shorten it).</extracomment>
        <translation>アプリパスワード</translation>
    </message>
    <message>
        <source>Your mail app will ask for the app password when it first connects. Copy it from here and paste it there.</source>
        <translation>メールアプリは、最初に接続するときにアプリパスワードを求めます。ここでコピーして、メールアプリに貼り付けてください。</translation>
    </message>
    <message>
        <source>App password</source>
        <translation>アプリパスワード</translation>
    </message>
    <message>
        <source>S&amp;how</source>
        <translation>表示(&amp;H)</translation>
    </message>
    <message>
        <source>Show the app password</source>
        <translation>アプリパスワードを表示</translation>
    </message>
    <message>
        <source>&amp;Copy password again</source>
        <translation>パスワードをもう一度コピー(&amp;C)</translation>
    </message>
    <message>
        <source>Copy the app password again</source>
        <translation>アプリパスワードをもう一度コピー</translation>
    </message>
    <message>
        <source>Set up your phone too</source>
        <translation>スマートフォンも設定しましょう</translation>
    </message>
    <message>
        <source>If something does not work later, start this program again and choose “Something stopped working? Get help”.</source>
        <translation>あとでうまく動かなくなった場合は、このプログラムをもう一度起動して、「うまく動かなくなった場合のヘルプ」を選んでください。</translation>
    </message>
    <message>
        <source>Finish</source>
        <translation>終了</translation>
    </message>
    <message>
        <source>%1 is set up and saved on this computer.</source>
        <translation>%1 の設定が完了し、このコンピューターに保存されました。</translation>
    </message>
    <message>
        <source>You signed in with Microsoft; no password was saved.</source>
        <translation>Microsoft でサインインしたため、パスワードは保存していません。</translation>
    </message>
    <message>
        <source>The password is in your system&apos;s keyring (password store), not in a file.</source>
        <translation>パスワードは、ファイルではなく、システムのパスワード保管庫（キーリング）に保存されています。</translation>
    </message>
    <message>
        <source>Receiving and sending were checked and work.</source>
        <translation>受信と送信を確認し、正常に動作しています。</translation>
    </message>
    <message>
        <source>What to do next in %1</source>
        <translation>%1 での次の手順</translation>
    </message>
    <message>
        <source>Open Outlook and choose File &gt; Add Account.</source>
        <translation>Outlook を開き、「ファイル」&gt;「アカウントの追加」を選びます。</translation>
    </message>
    <message>
        <source>Type %1 and choose Connect.</source>
        <translation>%1 と入力して、「接続」を選びます。</translation>
    </message>
    <message>
        <source>Sign in with Microsoft when Outlook asks. That is all.</source>
        <translation>Outlook に求められたら、Microsoft でサインインします。これで完了です。</translation>
    </message>
    <message>
        <source>Type %1, open Advanced options, tick “Let me set up my account manually” and choose Connect.</source>
        <translation>%1 と入力し、「詳細オプション」を開いて「自分で自分のアカウントを手動で設定」にチェックを入れ、「接続」を選びます。</translation>
    </message>
    <message>
        <source>Type the password when Outlook asks for it.</source>
        <translation>Outlook に求められたら、パスワードを入力します。</translation>
    </message>
    <message>
        <source>Open Thunderbird and choose Account Settings &gt; Account Actions &gt; Add Mail Account.</source>
        <translation>Thunderbird を開き、「アカウント設定」&gt;「アカウント操作」&gt;「メールアカウントを追加」を選びます。</translation>
    </message>
    <message>
        <source>Type your name and %1, leave the password empty, then choose Continue.</source>
        <translation>名前と %1 を入力し、パスワードは空欄のまま「続ける」を選びます。</translation>
    </message>
    <message>
        <source>Type your name, %1 and the password, then choose Continue.</source>
        <translation>名前、%1、パスワードを入力して、「続ける」を選びます。</translation>
    </message>
    <message>
        <source>Thunderbird finds the settings by itself. If it does not, choose Configure manually and type the settings below.</source>
        <translation>Thunderbird が設定を自動的に見つけます。見つからない場合は、「手動設定」を選んで下の設定を入力します。</translation>
    </message>
    <message>
        <source>When Thunderbird opens Microsoft&apos;s sign-in window, sign in there as you did here.</source>
        <translation>Thunderbird で Microsoft のサインインウィンドウが開いたら、ここで行ったときと同じようにサインインします。</translation>
    </message>
    <message>
        <source>Open Mail and choose Mail &gt; Add Account, then Other Mail Account.</source>
        <translation>「メール」を開いて「メール」&gt;「アカウントを追加」を選び、「その他のメールアカウント」を選びます。</translation>
    </message>
    <message>
        <source>Type your name, %1 and the password, then choose Sign In.</source>
        <translation>名前、%1、パスワードを入力して、「サインイン」を選びます。</translation>
    </message>
    <message>
        <source>If Mail asks for the servers, type the settings below.</source>
        <translation>「メール」にサーバーを求められたら、下の設定を入力します。</translation>
    </message>
    <message>
        <source>In your mail app, add a new mail account and type the settings below.</source>
        <translation>お使いのメールアプリで新しいメールアカウントを追加し、下の設定を入力します。</translation>
    </message>
    <message>
        <source>%1. %2</source>
        <translation>%1. %2</translation>
    </message>
    <message>
        <source>Choose POP and type the settings below.</source>
        <translation>「POP」を選び、下の設定を入力します。</translation>
    </message>
    <message>
        <source>Choose IMAP and type the settings below.</source>
        <translation>「IMAP」を選び、下の設定を入力します。</translation>
    </message>
    <message>
        <source>Incoming server (POP): %1</source>
        <translation>受信サーバー（POP）: %1</translation>
    </message>
    <message>
        <source>Incoming server (IMAP): %1</source>
        <translation>受信サーバー（IMAP）: %1</translation>
    </message>
    <message>
        <source>Outgoing server (SMTP): %1</source>
        <translation>送信サーバー（SMTP）: %1</translation>
    </message>
    <message>
        <source>Port: %1</source>
        <translation>ポート: %1</translation>
    </message>
    <message>
        <source>Security: %1</source>
        <translation>セキュリティ: %1</translation>
    </message>
    <message>
        <source>User name: %1</source>
        <translation>ユーザー名: %1</translation>
    </message>
    <message>
        <source>Copied. Paste it into your mail app. The clipboard is cleared in %1 seconds, or when you close this window.</source>
        <translation>コピーしました。メールアプリに貼り付けてください。クリップボードは %1 秒後、またはこのウィンドウを閉じたときに消去されます。</translation>
    </message>
    <message>
        <source>The clipboard was cleared.</source>
        <translation>クリップボードを消去しました。</translation>
    </message>
    <message>
        <source>On an iPhone or iPad signed in with your Apple Account, iCloud Mail is already there: there is nothing to do.</source>
        <translation>Apple アカウントでサインインしている iPhone や iPad には、iCloud メールがすでに設定されています。操作は必要ありません。</translation>
    </message>
    <message>
        <source>On another phone, add a mail account with these settings:</source>
        <translation>その他のスマートフォンでは、次の設定でメールアカウントを追加してください:</translation>
    </message>
    <message>
        <source>QR code for the Outlook app: %1</source>
        <translation>Outlook アプリの QR コード: %1</translation>
    </message>
    <message>
        <source>Install the Outlook app on your phone: scan this code with the phone&apos;s camera, or open %1 on the phone. Then add %2 in the app and sign in.</source>
        <translation>スマートフォンに Outlook アプリをインストールしてください。このコードをスマートフォンのカメラで読み取るか、スマートフォンで %1 を開きます。その後、アプリで %2 を追加してサインインしてください。</translation>
    </message>
    <message>
        <source>Outlook on the web can also show a QR code that signs the Outlook app on your phone in, if your organisation allows it.</source>
        <translation>組織で許可されている場合は、Outlook on the web に表示される QR コードで、スマートフォンの Outlook アプリにサインインすることもできます。</translation>
    </message>
    <message>
        <source>On your phone, add a mail account and type these settings:</source>
        <translation>スマートフォンでメールアカウントを追加し、次の設定を入力してください:</translation>
    </message>
</context>
<context>
    <name>FindingPage</name>
    <message>
        <source>Looking for your settings</source>
        <extracomment>The size of the provider&apos;s badge, in device-independent pixels.</extracomment>
        <translation>設定を探しています</translation>
    </message>
    <message>
        <source>&amp;Try again</source>
        <translation>もう一度試す(&amp;T)</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>もう一度試す</translation>
    </message>
    <message>
        <source>Use the suggested address</source>
        <translation>提案されたアドレスを使う</translation>
    </message>
    <message>
        <source>Settings to use</source>
        <translation>使用する設定</translation>
    </message>
    <message>
        <source>Several sets of settings were found. The first one is the best.</source>
        <translation>複数の設定が見つかりました。最初の設定が最適です。</translation>
    </message>
    <message>
        <source>&amp;Settings to use:</source>
        <translation>使用する設定(&amp;S):</translation>
    </message>
    <message>
        <source>Incoming mail:</source>
        <translation>受信メール:</translation>
    </message>
    <message>
        <source>Outgoing mail:</source>
        <translation>送信メール:</translation>
    </message>
    <message>
        <source>Calendars:</source>
        <translation>カレンダー:</translation>
    </message>
    <message>
        <source>Contacts:</source>
        <translation>連絡先:</translation>
    </message>
    <message>
        <source>Sign-in:</source>
        <translation>サインイン方法:</translation>
    </message>
    <message>
        <source>Found by:</source>
        <translation>検出方法:</translation>
    </message>
    <message>
        <source>Downloaded from:</source>
        <translation>ダウンロード元:</translation>
    </message>
    <message>
        <source>Trust:</source>
        <translation>信頼度:</translation>
    </message>
    <message>
        <source>Notes from your provider</source>
        <translation>プロバイダーからのお知らせ</translation>
    </message>
    <message>
        <source>Show &amp;details / edit manually</source>
        <translation>詳細を表示 / 手動で編集(&amp;D)</translation>
    </message>
    <message>
        <source>Show details or edit the settings manually</source>
        <translation>詳細を表示するか、設定を手動で編集する</translation>
    </message>
    <message>
        <source>Where we look</source>
        <translation>検索する場所</translation>
    </message>
    <message>
        <source>Built-in list of providers</source>
        <translation>内蔵のプロバイダー一覧</translation>
    </message>
    <message>
        <source>Your provider&apos;s own setup file</source>
        <translation>プロバイダー独自の設定ファイル</translation>
    </message>
    <message>
        <source>Thunderbird&apos;s list of providers</source>
        <translation>Thunderbird のプロバイダー一覧</translation>
    </message>
    <message>
        <source>The servers that receive mail for your domain</source>
        <translation>お使いのドメインのメールを受信するサーバー</translation>
    </message>
    <message>
        <source>Microsoft 365 and Exchange</source>
        <translation>Microsoft 365 と Exchange</translation>
    </message>
    <message>
        <source>Server records published for your domain</source>
        <translation>お使いのドメインで公開されているサーバー情報</translation>
    </message>
    <message>
        <source>Trying common server names</source>
        <translation>一般的なサーバー名を試す</translation>
    </message>
    <message>
        <source>Your organisation&apos;s Exchange server</source>
        <translation>組織の Exchange サーバー</translation>
    </message>
    <message>
        <source>Entered by hand</source>
        <translation>手動で入力</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>待機中</translation>
    </message>
    <message>
        <source>Looking…</source>
        <translation>検索中…</translation>
    </message>
    <message>
        <source>Found</source>
        <translation>見つかりました</translation>
    </message>
    <message>
        <source>Nothing found</source>
        <translation>見つかりませんでした</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失敗しました</translation>
    </message>
    <message>
        <source>Took too long</source>
        <translation>時間切れになりました</translation>
    </message>
    <message>
        <source>Skipped</source>
        <translation>スキップしました</translation>
    </message>
    <message>
        <source>Not needed</source>
        <translation>不要です</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>中止しました</translation>
    </message>
    <message>
        <source>encrypted (SSL/TLS)</source>
        <translation>暗号化あり（SSL/TLS）</translation>
    </message>
    <message>
        <source>encrypted (STARTTLS)</source>
        <translation>暗号化あり（STARTTLS）</translation>
    </message>
    <message>
        <source>not encrypted</source>
        <translation>暗号化なし</translation>
    </message>
    <message>
        <source>Your password</source>
        <translation>お使いのパスワード</translation>
    </message>
    <message>
        <source>An app password you create on your provider&apos;s site</source>
        <translation>プロバイダーのサイトで作成するアプリパスワード</translation>
    </message>
    <message>
        <source>Sign in with Microsoft</source>
        <translation>Microsoft でサインイン</translation>
    </message>
    <message>
        <source>Sign in with Google</source>
        <translation>Google でサインイン</translation>
    </message>
    <message>
        <source>Sign in with Microsoft (Exchange hybrid)</source>
        <translation>Microsoft でサインイン（Exchange ハイブリッド）</translation>
    </message>
    <message>
        <source>No sign-in</source>
        <translation>サインインなし</translation>
    </message>
    <message>
        <source>High: from a reliable source. The settings are still checked before anything is saved.</source>
        <translation>高: 信頼できる情報源から取得しました。それでも、保存する前に設定を確認します。</translation>
    </message>
    <message>
        <source>Medium: probably right, but not confirmed by a secure source. The settings are checked before anything is saved.</source>
        <translation>中: おそらく正しい設定ですが、安全な情報源では確認されていません。保存する前に設定を確認します。</translation>
    </message>
    <message>
        <source>Low: not confirmed, and may be wrong.</source>
        <translation>低: 確認されておらず、間違っている可能性があります。</translation>
    </message>
    <message>
        <source>%1: %2, port %3, %4</source>
        <translation>%1: %2、ポート %3、%4</translation>
    </message>
    <message>
        <source>%1 (no outgoing server)</source>
        <translation>%1（送信サーバーなし）</translation>
    </message>
    <message>
        <source>%1, sending through %2</source>
        <translation>%1、送信は %2 経由</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>Did you mean %1? Use this address</source>
        <translation>%1 ではありませんか？このアドレスを使う</translation>
    </message>
    <message>
        <source>Looking for the settings for %1…</source>
        <translation>%1 の設定を探しています…</translation>
    </message>
    <message>
        <source>Stopped. You can try again, or go back and check the address.</source>
        <translation>中止しました。もう一度試すか、戻ってアドレスを確認してください。</translation>
    </message>
    <message>
        <source>Something went wrong while looking for the settings. Please try again.</source>
        <translation>設定を探している途中で問題が発生しました。もう一度お試しください。</translation>
    </message>
    <message>
        <source>We found the settings for %1.</source>
        <translation>%1 の設定が見つかりました。</translation>
    </message>
    <message>
        <source>We could not find the settings for %1. Continue to enter them yourself: your provider&apos;s help pages or your helpdesk can tell you what to type.</source>
        <translation>%1 の設定が見つかりませんでした。続けて、設定を自分で入力してください。入力する内容は、プロバイダーのヘルプページやヘルプデスクで確認できます。</translation>
    </message>
    <message>
        <source>Logo of %1</source>
        <translation>%1 のロゴ</translation>
    </message>
    <message>
        <source>None found. You will not be able to send mail until one is set.</source>
        <translation>見つかりませんでした。送信サーバーを設定するまで、メールを送信できません。</translation>
    </message>
    <message>
        <source>None found</source>
        <translation>見つかりませんでした</translation>
    </message>
    <message>
        <source>Warning: these settings were downloaded without encryption (plain HTTP), so someone could have changed them on the way. Compare them with your provider&apos;s instructions before you continue.</source>
        <translation>警告: この設定は暗号化されずに（HTTP で）ダウンロードされたため、途中で第三者に書き換えられた可能性があります。続ける前に、プロバイダーの案内と比べてください。</translation>
    </message>
    <message>
        <source>Warning: these settings could not be confirmed and may be wrong. Compare them with your provider&apos;s instructions, or edit them, before you continue.</source>
        <translation>警告: この設定は確認できておらず、間違っている可能性があります。続ける前に、プロバイダーの案内と比べるか、設定を編集してください。</translation>
    </message>
    <message>
        <source>Check the settings below, then continue. Experts can look at every detail and change it.</source>
        <translation>下の設定を確認してから、続けてください。詳しい方は、すべての項目を確認して変更することもできます。</translation>
    </message>
    <message>
        <source>%1 (published in your domain&apos;s records)</source>
        <translation>%1（ドメインのレコードで公開）</translation>
    </message>
</context>
<context>
    <name>ICloudPanel</name>
    <message>
        <source>Apple&apos;s page and the steps</source>
        <extracomment>Apple&apos;s account page, where app-specific passwords are made. Hosts whose pages stay in the embedded browser when the person clicks a link to them (Apple&apos;s sign-in runs on idmsa.apple.com and appleid.apple.com); other links open in the system browser. How long typing must pause before the pasted text&apos;s shape is looked at, in milliseconds.</extracomment>
        <translation>Apple のページと手順</translation>
    </message>
    <message>
        <source>Address of the page</source>
        <translation>ページのアドレス</translation>
    </message>
    <message>
        <source>&amp;Open in my browser</source>
        <translation>ブラウザーで開く(&amp;O)</translation>
    </message>
    <message>
        <source>Open Apple&apos;s page in my browser</source>
        <translation>Apple のページをブラウザーで開く</translation>
    </message>
    <message>
        <source>Loading the page</source>
        <translation>ページを読み込んでいます</translation>
    </message>
    <message>
        <source>&amp;Try again</source>
        <translation>もう一度試す(&amp;T)</translation>
    </message>
    <message>
        <source>Try to open Apple&apos;s page again</source>
        <translation>Apple のページをもう一度開く</translation>
    </message>
    <message>
        <source>Apple&apos;s page opens here.</source>
        <translation>ここに Apple のページが表示されます。</translation>
    </message>
    <message>
        <source>How to create an app-specific password</source>
        <translation>App 用パスワードの作成方法</translation>
    </message>
    <message>
        <source>iCloud Mail needs an app-specific password: Apple does not let other apps use your Apple Account password. Create one on Apple&apos;s page, then paste it below.</source>
        <translation>iCloud メールには App 用パスワードが必要です。Apple は、ほかのアプリで Apple アカウントのパスワードを使うことを認めていません。Apple のページで作成し、下に貼り付けてください。</translation>
    </message>
    <message>
        <source>Sign in with your Apple Account.</source>
        <translation>Apple アカウントでサインインします。</translation>
    </message>
    <message>
        <source>If Apple asks, enter the verification code shown on your iPhone or another trusted device (two-factor authentication).</source>
        <translation>求められたら、iPhone などの信頼できるデバイスに表示される確認コードを入力します（2 ファクタ認証）。</translation>
    </message>
    <message>
        <source>Choose Sign-In and Security.</source>
        <translation>「サインインとセキュリティ」を選びます。</translation>
    </message>
    <message>
        <source>Choose App-Specific Passwords.</source>
        <translation>「App 用パスワード」を選びます。</translation>
    </message>
    <message>
        <source>If Apple asks, enter your Apple Account password again to confirm.</source>
        <translation>求められたら、確認のため Apple アカウントのパスワードをもう一度入力します。</translation>
    </message>
    <message>
        <source>Copy the password Apple shows (it looks like abcd-efgh-ijkl-mnop) and paste it below.</source>
        <translation>Apple が表示したパスワード（abcd-efgh-ijkl-mnop のような形式）をコピーして、下に貼り付けます。</translation>
    </message>
    <message>
        <source>&amp;Copy name</source>
        <translation>名前をコピー(&amp;C)</translation>
    </message>
    <message>
        <source>Copy the suggested name</source>
        <translation>提案された名前をコピー</translation>
    </message>
    <message>
        <source>Apple shows the password only once. Paste it here before you close Apple&apos;s window; if it is lost, create a new one.</source>
        <translation>パスワードは一度しか表示されません。Apple のウィンドウを閉じる前に、ここに貼り付けてください。わからなくなった場合は、新しく作成してください。</translation>
    </message>
    <message>
        <source>App-Specific Passwords is missing when two-factor authentication is off for your Apple Account. Turn it on under Sign-In and Security first.</source>
        <translation>Apple アカウントで 2 ファクタ認証がオフになっていると、「App 用パスワード」は表示されません。先に「サインインとセキュリティ」でオンにしてください。</translation>
    </message>
    <message>
        <source>You can have at most 25 app-specific passwords. Revoke the ones you no longer use to make room.</source>
        <translation>App 用パスワードは最大 25 個まで作成できます。新しく作成するには、使わなくなったものを取り消してください。</translation>
    </message>
    <message>
        <source>Changing your Apple Account password revokes all your app-specific passwords; then create a new one for your mail app.</source>
        <translation>Apple アカウントのパスワードを変更すると、すべての App 用パスワードが取り消されます。その場合は、メールアプリ用に新しい App 用パスワードを作成してください。</translation>
    </message>
    <message>
        <source>&amp;Paste the app-specific password:</source>
        <translation>App 用パスワードを貼り付け(&amp;P):</translation>
    </message>
    <message>
        <source>Paste the app-specific password:</source>
        <translation>App 用パスワードを貼り付け:</translation>
    </message>
    <message>
        <source>xxxx-xxxx-xxxx-xxxx</source>
        <translation>xxxx-xxxx-xxxx-xxxx</translation>
    </message>
    <message>
        <source>App-specific password</source>
        <translation>App 用パスワード</translation>
    </message>
    <message>
        <source>Paste the password Apple showed, such as abcd-efgh-ijkl-mnop.</source>
        <translation>Apple が表示したパスワード（abcd-efgh-ijkl-mnop のような形式）を貼り付けてください。</translation>
    </message>
    <message>
        <source>S&amp;how password</source>
        <translation>パスワードを表示(&amp;H)</translation>
    </message>
    <message>
        <source>Show password</source>
        <translation>パスワードを表示</translation>
    </message>
    <message>
        <source>My Apple Account uses another a&amp;ddress</source>
        <translation>Apple アカウントのアドレスが別にある(&amp;D)</translation>
    </message>
    <message>
        <source>My Apple Account uses an address other than this iCloud mail address</source>
        <translation>Apple アカウントのアドレスが、この iCloud メールのアドレスとは異なる</translation>
    </message>
    <message>
        <source>Apple &amp;Account address:</source>
        <translation>Apple アカウントのアドレス(&amp;A):</translation>
    </message>
    <message>
        <source>Apple Account address:</source>
        <translation>Apple アカウントのアドレス:</translation>
    </message>
    <message>
        <source>name@example.com</source>
        <translation>name@example.com</translation>
    </message>
    <message>
        <source>Apple Account address</source>
        <translation>Apple アカウントのアドレス</translation>
    </message>
    <message>
        <source>Calendars and contacts sign in with this address.</source>
        <translation>カレンダーと連絡先は、このアドレスでサインインします。</translation>
    </message>
    <message>
        <source>Calendars and contacts sign in with this address; mail uses your iCloud address.</source>
        <translation>カレンダーと連絡先は、このアドレスでサインインします。メールには iCloud のアドレスを使います。</translation>
    </message>
    <message>
        <source>Apple Mail</source>
        <translation>メール</translation>
    </message>
    <message>
        <source>Mail app</source>
        <translation>メールアプリ</translation>
    </message>
    <message>
        <source>Mail Setup – %1</source>
        <translation>Mail Setup – %1</translation>
    </message>
    <message>
        <source>Choose the add button (+), give the password a name such as “%1” and choose Create.</source>
        <translation>追加ボタン（+）を選び、「%1」などの名前を付けて「作成」を選びます。</translation>
    </message>
    <message>
        <source>Suggested name: %1</source>
        <translation>提案された名前: %1</translation>
    </message>
    <message>
        <source>Apple&apos;s account page</source>
        <translation>Apple のアカウントページ</translation>
    </message>
    <message>
        <source>Secure connection</source>
        <translation>安全な接続</translation>
    </message>
    <message>
        <source>Not secure</source>
        <translation>保護されていない通信</translation>
    </message>
    <message>
        <source>The page was not opened, because it was not protected by HTTPS.</source>
        <translation>このページは HTTPS で保護されていないため、開きませんでした。</translation>
    </message>
    <message>
        <source>The page was not opened and nothing was sent to it. You can open Apple&apos;s page in your own browser instead.</source>
        <translation>ページは開かず、何も送信していません。代わりに、お使いのブラウザーで Apple のページを開くことができます。</translation>
    </message>
    <message>
        <source>Check your internet connection and try again, or open the page in your own browser.</source>
        <translation>インターネット接続を確認してもう一度試すか、お使いのブラウザーでページを開いてください。</translation>
    </message>
</context>
<context>
    <name>MailSettings</name>
    <message>
        <source>SSL/TLS</source>
        <extracomment>Advice that belongs before the sign-in page (&quot;the next page shows how&quot;). Asks where to write a settings file: (suggested path, file-type filter) -&gt; chosen path, or &quot;&quot; when the person cancelled. Tests replace it.</extracomment>
        <translation>SSL/TLS</translation>
    </message>
    <message>
        <source>STARTTLS</source>
        <translation>STARTTLS</translation>
    </message>
    <message>
        <source>None (not encrypted)</source>
        <translation>なし（暗号化なし）</translation>
    </message>
    <message>
        <source>%1, port %2, encryption: %3</source>
        <translation>%1、ポート %2、暗号化: %3</translation>
    </message>
    <message>
        <source>Save a settings file</source>
        <translation>設定ファイルの保存</translation>
    </message>
    <message>
        <source>Classic Outlook</source>
        <translation>従来の Outlook</translation>
    </message>
    <message>
        <source>The new Outlook</source>
        <translation>新しい Outlook</translation>
    </message>
    <message>
        <source>Thunderbird</source>
        <translation>Thunderbird</translation>
    </message>
    <message>
        <source>Apple Mail</source>
        <translation>Apple の「メール」</translation>
    </message>
    <message>
        <source>Another mail app</source>
        <translation>その他のメールアプリ</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Mail Setup Wizard</source>
        <translation>Mail Setup Wizard</translation>
    </message>
    <message>
        <source>Product name</source>
        <translation>製品名</translation>
    </message>
    <message>
        <source>Version %1</source>
        <translation>バージョン %1</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>バージョン</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>終了(&amp;Q)</translation>
    </message>
</context>
<context>
    <name>ManualPage</name>
    <message>
        <source>Check or change the settings your provider gave you. Problems are shown beside each setting as you type.</source>
        <extracomment>Sign-in kinds a person may pick by hand. Others (Google sign-in, Exchange hybrid, none) are listed only when the settings being edited already use them.</extracomment>
        <translation>プロバイダーから案内された設定を確認または変更してください。入力中に問題が見つかると、各設定の横に表示されます。</translation>
    </message>
    <message>
        <source>Incoming mail</source>
        <translation>受信メール</translation>
    </message>
    <message>
        <source>Incoming mail protocol</source>
        <translation>受信メールのプロトコル</translation>
    </message>
    <message>
        <source>IMAP (mail stays on the server)</source>
        <translation>IMAP（メールをサーバーに残す）</translation>
    </message>
    <message>
        <source>POP3 (mail is downloaded)</source>
        <translation>POP3（メールをダウンロードする）</translation>
    </message>
    <message>
        <source>&amp;Protocol:</source>
        <translation>プロトコル(&amp;P):</translation>
    </message>
    <message>
        <source>Incoming mail server</source>
        <translation>受信メールサーバー</translation>
    </message>
    <message>
        <source>imap.example.com</source>
        <translation>imap.example.com</translation>
    </message>
    <message>
        <source>&amp;Incoming server:</source>
        <translation>受信サーバー(&amp;I):</translation>
    </message>
    <message>
        <source>Incoming mail port</source>
        <translation>受信メールのポート</translation>
    </message>
    <message>
        <source>Po&amp;rt:</source>
        <translation>ポート(&amp;R):</translation>
    </message>
    <message>
        <source>Incoming mail encryption</source>
        <translation>受信メールの暗号化</translation>
    </message>
    <message>
        <source>&amp;Encryption:</source>
        <translation>暗号化(&amp;E):</translation>
    </message>
    <message>
        <source>Incoming mail user name</source>
        <translation>受信メールのユーザー名</translation>
    </message>
    <message>
        <source>Usually your address</source>
        <translation>通常はメールアドレス</translation>
    </message>
    <message>
        <source>&amp;User name:</source>
        <translation>ユーザー名(&amp;U):</translation>
    </message>
    <message>
        <source>Outgoing mail (SMTP)</source>
        <translation>送信メール（SMTP）</translation>
    </message>
    <message>
        <source>Outgoing mail server</source>
        <translation>送信メールサーバー</translation>
    </message>
    <message>
        <source>Empty: no outgoing server</source>
        <translation>空欄: 送信サーバーなし</translation>
    </message>
    <message>
        <source>&amp;Outgoing server:</source>
        <translation>送信サーバー(&amp;O):</translation>
    </message>
    <message>
        <source>Outgoing mail port</source>
        <translation>送信メールのポート</translation>
    </message>
    <message>
        <source>Por&amp;t:</source>
        <translation>ポート(&amp;T):</translation>
    </message>
    <message>
        <source>Outgoing mail encryption</source>
        <translation>送信メールの暗号化</translation>
    </message>
    <message>
        <source>E&amp;ncryption:</source>
        <translation>暗号化(&amp;N):</translation>
    </message>
    <message>
        <source>Outgoing mail user name</source>
        <translation>送信メールのユーザー名</translation>
    </message>
    <message>
        <source>U&amp;ser name:</source>
        <translation>ユーザー名(&amp;S):</translation>
    </message>
    <message>
        <source>Calendars and contacts</source>
        <translation>カレンダーと連絡先</translation>
    </message>
    <message>
        <source>Calendars (CalDAV) address</source>
        <translation>カレンダー（CalDAV）のアドレス</translation>
    </message>
    <message>
        <source>Empty: none</source>
        <translation>空欄: なし</translation>
    </message>
    <message>
        <source>&amp;Calendars (CalDAV):</source>
        <translation>カレンダー（CalDAV）(&amp;C):</translation>
    </message>
    <message>
        <source>Contacts (CardDAV) address</source>
        <translation>連絡先（CardDAV）のアドレス</translation>
    </message>
    <message>
        <source>Contacts (Car&amp;dDAV):</source>
        <translation>連絡先（CardDAV）(&amp;D):</translation>
    </message>
    <message>
        <source>Sign-in</source>
        <translation>サインイン</translation>
    </message>
    <message>
        <source>How to sign in</source>
        <translation>サインイン方法</translation>
    </message>
    <message>
        <source>Si&amp;gn in with:</source>
        <translation>サインイン方法(&amp;G):</translation>
    </message>
    <message>
        <source>SSL/TLS</source>
        <translation>SSL/TLS</translation>
    </message>
    <message>
        <source>STARTTLS</source>
        <translation>STARTTLS</translation>
    </message>
    <message>
        <source>None (not encrypted, not safe)</source>
        <translation>なし（暗号化なし、安全ではありません）</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>パスワード</translation>
    </message>
    <message>
        <source>App password</source>
        <translation>アプリパスワード</translation>
    </message>
    <message>
        <source>Microsoft sign-in</source>
        <translation>Microsoft でサインイン</translation>
    </message>
    <message>
        <source>Google sign-in</source>
        <translation>Google でサインイン</translation>
    </message>
    <message>
        <source>Microsoft sign-in (Exchange hybrid)</source>
        <translation>Microsoft でサインイン（Exchange ハイブリッド）</translation>
    </message>
    <message>
        <source>No sign-in</source>
        <translation>サインインなし</translation>
    </message>
</context>
<context>
    <name>MicrosoftPanel</name>
    <message>
        <source>Signing in</source>
        <translation>サインイン中</translation>
    </message>
    <message>
        <source>&amp;Sign in with Microsoft</source>
        <translation>Microsoft でサインイン(&amp;S)</translation>
    </message>
    <message>
        <source>Sign in with Microsoft</source>
        <translation>Microsoft でサインイン</translation>
    </message>
    <message>
        <source>%1 signs in with Microsoft. Select Sign in with Microsoft: a window with Microsoft&apos;s own sign-in page opens. Your password goes only to Microsoft, never to this program.</source>
        <translation>%1 は Microsoft でサインインします。「Microsoft でサインイン」を選ぶと、Microsoft のサインインページのウィンドウが開きます。パスワードは Microsoft にだけ送られ、このプログラムに渡ることはありません。</translation>
    </message>
    <message>
        <source>Opening Microsoft&apos;s sign-in page…</source>
        <translation>Microsoft のサインインページを開いています…</translation>
    </message>
    <message>
        <source>Finishing the sign-in…</source>
        <translation>サインインを完了しています…</translation>
    </message>
    <message>
        <source>Sign in in the Microsoft window that has opened.</source>
        <translation>開いた Microsoft のウィンドウでサインインしてください。</translation>
    </message>
    <message>
        <source>The sign-in was stopped. Select Try again to sign in.</source>
        <translation>サインインを中止しました。サインインするには「もう一度試す」を選んでください。</translation>
    </message>
    <message>
        <source>The sign-in window was closed before you signed in. Select Try again to sign in.</source>
        <translation>サインインが完了する前に、サインインのウィンドウが閉じられました。サインインするには「もう一度試す」を選んでください。</translation>
    </message>
    <message>
        <source>Something went wrong while signing in. Select Try again.</source>
        <translation>サインイン中に問題が発生しました。「もう一度試す」を選んでください。</translation>
    </message>
    <message>
        <source>Signed in as %1.</source>
        <translation>%1 としてサインインしました。</translation>
    </message>
    <message>
        <source>Your organisation has not set up Microsoft sign-in for this program, so it cannot sign in to %1 yet. Ask your helpdesk: they need to register the program with Microsoft and add its client ID to the program&apos;s configuration.</source>
        <translation>お使いの組織でこのプログラムの Microsoft サインインが設定されていないため、まだ %1 にサインインできません。ヘルプデスクにお問い合わせください。ヘルプデスクでこのプログラムを Microsoft に登録し、そのクライアント ID をプログラムの構成に追加する必要があります。</translation>
    </message>
    <message>
        <source>&amp;Try again</source>
        <translation>もう一度試す(&amp;T)</translation>
    </message>
    <message>
        <source>Sign in &amp;again</source>
        <translation>もう一度サインイン(&amp;A)</translation>
    </message>
</context>
<context>
    <name>PasswordPanel</name>
    <message>
        <source>Create an app password</source>
        <extracomment>The provider notes about signing in, shown on this panel (the others, about IMAP being switched on, POP or port 25, belong to the finding and checking pages).</extracomment>
        <translation>アプリパスワードを作成</translation>
    </message>
    <message>
        <source>Opens your provider&apos;s page for app passwords in your web browser.</source>
        <translation>プロバイダーのアプリパスワードのページを Web ブラウザーで開きます。</translation>
    </message>
    <message>
        <source>Open the provider&apos;s help page</source>
        <translation>プロバイダーのヘルプページを開く</translation>
    </message>
    <message>
        <source>Opens your provider&apos;s help for mail apps in your web browser.</source>
        <translation>メールアプリに関するプロバイダーのヘルプを Web ブラウザーで開きます。</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>パスワード(&amp;P):</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>パスワード</translation>
    </message>
    <message>
        <source>&amp;Show the password</source>
        <translation>パスワードを表示(&amp;S)</translation>
    </message>
    <message>
        <source>Show the password</source>
        <translation>パスワードを表示</translation>
    </message>
    <message>
        <source>Sign-in &amp;name:</source>
        <translation>サインイン名(&amp;N):</translation>
    </message>
    <message>
        <source>Sign-in name</source>
        <translation>サインイン名</translation>
    </message>
    <message>
        <source>Only needed when you sign in with something other than your email address.</source>
        <translation>メールアドレス以外でサインインする場合にだけ必要です。</translation>
    </message>
    <message>
        <source>Enter an app password for %1.</source>
        <translation>%1 のアプリパスワードを入力してください。</translation>
    </message>
    <message>
        <source>%1 does not let mail apps sign in with your normal password. Create an app password on the %1 website: a separate password only for mail apps, which you can revoke at any time. Then enter it here.</source>
        <translation>%1 では、メールアプリで通常のパスワードを使ってサインインすることはできません。%1 の Web サイトでアプリパスワードを作成してください。アプリパスワードはメールアプリ専用の別のパスワードで、いつでも取り消すことができます。作成したら、ここに入力してください。</translation>
    </message>
    <message>
        <source>This account does not let mail apps sign in with your normal password. Create an app password on your provider&apos;s website: a separate password only for mail apps, which you can revoke at any time. Then enter it here.</source>
        <translation>このアカウントでは、メールアプリで通常のパスワードを使ってサインインすることはできません。プロバイダーの Web サイトでアプリパスワードを作成してください。アプリパスワードはメールアプリ専用の別のパスワードで、いつでも取り消すことができます。作成したら、ここに入力してください。</translation>
    </message>
    <message>
        <source>App &amp;password:</source>
        <translation>アプリパスワード(&amp;P):</translation>
    </message>
    <message>
        <source>App password</source>
        <translation>アプリパスワード</translation>
    </message>
    <message>
        <source>Enter the password of your %1 account %2.</source>
        <translation>%1 アカウント %2 のパスワードを入力してください。</translation>
    </message>
    <message>
        <source>Enter the password for %1.</source>
        <translation>%1 のパスワードを入力してください。</translation>
    </message>
    <message>
        <source>The wizard checks it with your provider&apos;s servers. It is saved only in this computer&apos;s protected password store, never in a file.</source>
        <translation>入力したパスワードは、プロバイダーのサーバーで確認します。パスワードは、このコンピューターの保護されたパスワード保管庫にだけ保存され、ファイルに保存されることはありません。</translation>
    </message>
    <message>
        <source>Open the %1 help page</source>
        <translation>%1 のヘルプページを開く</translation>
    </message>
    <message>
        <source>Leave empty to sign in as %1</source>
        <translation>空欄の場合は %1 でサインインします</translation>
    </message>
</context>
<context>
    <name>SavePage</name>
    <message>
        <source>This is what will be saved on this computer. Press Save when it is right.</source>
        <translation>このコンピューターに保存される内容です。問題がなければ「保存」を押してください。</translation>
    </message>
    <message>
        <source>Email address:</source>
        <translation>メールアドレス:</translation>
    </message>
    <message>
        <source>Your name:</source>
        <translation>名前:</translation>
    </message>
    <message>
        <source>Receiving mail:</source>
        <translation>メールの受信:</translation>
    </message>
    <message>
        <source>Sending mail:</source>
        <translation>メールの送信:</translation>
    </message>
    <message>
        <source>Calendars:</source>
        <translation>カレンダー:</translation>
    </message>
    <message>
        <source>Contacts:</source>
        <translation>連絡先:</translation>
    </message>
    <message>
        <source>Sign-in name:</source>
        <translation>サインイン名:</translation>
    </message>
    <message>
        <source>Password:</source>
        <translation>パスワード:</translation>
    </message>
    <message>
        <source>Mail app:</source>
        <translation>メールアプリ:</translation>
    </message>
    <message>
        <source>&amp;Save</source>
        <translation>保存(&amp;S)</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Save &amp;without the password</source>
        <translation>パスワードなしで保存(&amp;W)</translation>
    </message>
    <message>
        <source>Save without the password</source>
        <translation>パスワードなしで保存</translation>
    </message>
    <message>
        <source>Your mail app will ask for the password when it first connects.</source>
        <translation>メールアプリは、最初に接続するときにパスワードを求めます。</translation>
    </message>
    <message>
        <source>Saved.</source>
        <translation>保存しました。</translation>
    </message>
    <message>
        <source>&amp;Save again</source>
        <translation>もう一度保存(&amp;S)</translation>
    </message>
    <message>
        <source>None: this account cannot send mail.</source>
        <translation>なし: このアカウントではメールを送信できません。</translation>
    </message>
    <message>
        <source>No password is saved: you signed in with Microsoft, and your mail app signs in with Microsoft too.</source>
        <translation>パスワードは保存しません。Microsoft でサインインしており、メールアプリも Microsoft でサインインするためです。</translation>
    </message>
    <message>
        <source>No password is saved: your mail app signs in by itself.</source>
        <translation>パスワードは保存しません。サインインはメールアプリが自分で行います。</translation>
    </message>
    <message>
        <source>No password is saved: your mail app will ask for it.</source>
        <translation>パスワードは保存しません。パスワードはメールアプリから求められます。</translation>
    </message>
    <message>
        <source>Saved in your system&apos;s keyring (password store), never in a file on disk.</source>
        <translation>システムのパスワード保管庫（キーリング）に保存します。ディスク上のファイルに保存することはありません。</translation>
    </message>
    <message>
        <source>Classic Outlook: after saving, add the account in Outlook with File &gt; Add Account and type your address. Outlook finds the rest and signs in with Microsoft.</source>
        <translation>従来の Outlook: 保存したら、Outlook の「ファイル」&gt;「アカウントの追加」でアカウントを追加し、メールアドレスを入力します。残りの設定は Outlook が見つけ、Microsoft でサインインします。</translation>
    </message>
    <message>
        <source>Classic Outlook: after saving, you can save a settings file for Outlook and open it, or add the account in Outlook with File &gt; Add Account and the settings above.</source>
        <translation>従来の Outlook: 保存したら、Outlook 用の設定ファイルを保存して開くか、Outlook の「ファイル」&gt;「アカウントの追加」で上の設定を使ってアカウントを追加できます。</translation>
    </message>
    <message>
        <source>The new Outlook: you add the account in Outlook itself. After saving, the next page shows how.</source>
        <translation>新しい Outlook: アカウントは Outlook で追加します。保存したら、次のページで手順を説明します。</translation>
    </message>
    <message>
        <source>Thunderbird: after saving, add the account in Thunderbird with the settings above. The next page shows how.</source>
        <translation>Thunderbird: 保存したら、上の設定を使って Thunderbird でアカウントを追加します。手順は次のページで説明します。</translation>
    </message>
    <message>
        <source>Apple Mail: after saving, you can save a settings file (a configuration profile) and open it. System Settings then asks you to install it.</source>
        <translation>Apple の「メール」: 保存したら、設定ファイル（構成プロファイル）を保存して開くことができます。そのあと「システム設定」で、インストールするよう求められます。</translation>
    </message>
    <message>
        <source>Your mail app: after saving, the next page lists the settings to type in.</source>
        <translation>お使いのメールアプリ: 保存したら、入力する設定を次のページに一覧で表示します。</translation>
    </message>
    <message>
        <source>Saving…</source>
        <translation>保存しています…</translation>
    </message>
    <message>
        <source>Nothing was saved.</source>
        <translation>何も保存されていません。</translation>
    </message>
    <message>
        <source>Nothing was saved: something went wrong in this program. Press Save to try again; if it happens again, ask your helpdesk.</source>
        <translation>このプログラムで問題が発生したため、何も保存されていません。「保存」を押して、もう一度お試しください。再び起きる場合は、ヘルプデスクにお問い合わせください。</translation>
    </message>
    <message>
        <source>Save a settings &amp;file for %1…</source>
        <translation>%1 用の設定ファイルを保存(&amp;F)…</translation>
    </message>
    <message>
        <source>Save a settings &amp;sheet to keep or print…</source>
        <translation>保管・印刷用の設定シートを保存(&amp;S)…</translation>
    </message>
    <message>
        <source>Settings file (*%1)</source>
        <translation>設定ファイル (*%1)</translation>
    </message>
    <message>
        <source>The file could not be written: %1</source>
        <translation>ファイルに書き込めませんでした: %1</translation>
    </message>
    <message>
        <source>Saved to %1.</source>
        <translation>%1 に保存しました。</translation>
    </message>
    <message>
        <source>System Settings now offers the profile.</source>
        <translation>「システム設定」にプロファイルが表示されます。</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <source>Language</source>
        <translation>言語</translation>
    </message>
    <message>
        <source>Same as the system</source>
        <translation>システムと同じ</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完了</translation>
    </message>
</context>
<context>
    <name>SignInPage</name>
    <message>
        <source>This account needs no sign-in here. Go back to choose another app.</source>
        <translation>このアカウントは、ここでサインインする必要はありません。別のアプリを選ぶには、戻ってください。</translation>
    </message>
</context>
<context>
    <name>Support</name>
    <message>
        <source>your helpdesk</source>
        <translation>ヘルプデスク</translation>
    </message>
    <message>
        <source>Need help? Contact %1: %2</source>
        <translation>お困りの場合は、%1 にお問い合わせください: %2</translation>
    </message>
</context>
<context>
    <name>TroubleshootPage</name>
    <message>
        <source>Tell us what is not working and for which account. We check the servers, the saved settings and this computer, and explain what we find. Your password is never shown and never put in the summary or the report.</source>
        <extracomment>What the page reads when it is shown: the saved accounts, this computer&apos;s facts, and the store&apos;s problem when the accounts could not be read. How long reading the saved password from the keyring may take (it may ask to unlock it).</extracomment>
        <translation>うまく動かない内容と、対象のアカウントを教えてください。サーバー、保存された設定、このコンピューターを確認し、わかったことを説明します。パスワードが表示されたり、概要やレポートに含まれたりすることはありません。</translation>
    </message>
    <message>
        <source>What is not working?</source>
        <translation>何がうまく動きませんか？</translation>
    </message>
    <message>
        <source>Email address of the account</source>
        <translation>アカウントのメールアドレス</translation>
    </message>
    <message>
        <source>Choose a saved account or type an email address.</source>
        <translation>保存済みのアカウントを選ぶか、メールアドレスを入力してください。</translation>
    </message>
    <message>
        <source>name@example.com</source>
        <translation>name@example.com</translation>
    </message>
    <message>
        <source>&amp;Account:</source>
        <translation>アカウント(&amp;A):</translation>
    </message>
    <message>
        <source>&amp;Run checks</source>
        <translation>確認を実行(&amp;R)</translation>
    </message>
    <message>
        <source>Run checks</source>
        <translation>確認を実行</translation>
    </message>
    <message>
        <source>Checking</source>
        <translation>確認中</translation>
    </message>
    <message>
        <source>What was found</source>
        <translation>確認結果</translation>
    </message>
    <message>
        <source>&amp;Hide my address in the summary and the report</source>
        <translation>概要とレポートでメールアドレスを伏せる(&amp;H)</translation>
    </message>
    <message>
        <source>Hide my address in the summary and the report</source>
        <translation>概要とレポートでメールアドレスを伏せる</translation>
    </message>
    <message>
        <source>&amp;Copy summary</source>
        <translation>概要をコピー(&amp;C)</translation>
    </message>
    <message>
        <source>Copy summary</source>
        <translation>概要をコピー</translation>
    </message>
    <message>
        <source>Copies a short text for a chat or an email to your helpdesk.</source>
        <translation>ヘルプデスクへのチャットやメールに使える短い文章をコピーします。</translation>
    </message>
    <message>
        <source>&amp;Save report…</source>
        <translation>レポートを保存(&amp;S)…</translation>
    </message>
    <message>
        <source>Save report</source>
        <translation>レポートを保存</translation>
    </message>
    <message>
        <source>Saves the full report as a .zip file to send to your helpdesk.</source>
        <translation>ヘルプデスクに送るための完全なレポートを .zip ファイルとして保存します。</translation>
    </message>
    <message>
        <source>Change a&amp;nswers</source>
        <translation>回答を変更(&amp;N)</translation>
    </message>
    <message>
        <source>Change answers</source>
        <translation>回答を変更</translation>
    </message>
    <message>
        <source>This program is running as %1, an administrator account. It sees that account&apos;s keyring and settings, not those of the person whose mail is not working, so the results can be wrong. Close it and start it again as that person, without administrator rights.</source>
        <translation>このプログラムは、管理者アカウント %1 として実行されています。そのため、メールがうまく動かない人ではなく、このアカウントのキーリングと設定を参照しており、結果が正しくない可能性があります。プログラムを閉じ、管理者権限を使わずに、その人のアカウントで起動し直してください。</translation>
    </message>
    <message>
        <source>This account is not saved on this computer. The checks run without a password: they show whether the servers answer, not whether the password is right.</source>
        <translation>このアカウントは、このコンピューターに保存されていません。確認はパスワードなしで行います。サーバーが応答するかどうかはわかりますが、パスワードが正しいかどうかはわかりません。</translation>
    </message>
    <message>
        <source>This account is saved on this computer. The checks use its saved Microsoft sign-in when there is one.</source>
        <translation>このアカウントは、このコンピューターに保存されています。保存された Microsoft のサインイン情報があれば、それを使って確認します。</translation>
    </message>
    <message>
        <source>This account is saved on this computer. The checks use its saved password, which is never shown.</source>
        <translation>このアカウントは、このコンピューターに保存されています。確認には保存されたパスワードを使います。パスワードが表示されることはありません。</translation>
    </message>
    <message>
        <source>This account is saved on this computer without a password. The checks show whether the servers answer, not whether the password is right.</source>
        <translation>このアカウントは、パスワードなしでこのコンピューターに保存されています。サーバーが応答するかどうかはわかりますが、パスワードが正しいかどうかはわかりません。</translation>
    </message>
    <message>
        <source>Checking %1</source>
        <translation>%1 を確認しています</translation>
    </message>
    <message>
        <source>Looking at the servers, the saved settings and this computer. %1 seconds so far.</source>
        <translation>サーバー、保存された設定、このコンピューターを確認しています。%1 秒経過しました。</translation>
    </message>
    <message>
        <source>Stopped. Nothing was changed.</source>
        <translation>中止しました。何も変更されていません。</translation>
    </message>
    <message>
        <source>The checks could not finish: %1</source>
        <translation>確認を完了できませんでした: %1</translation>
    </message>
    <message>
        <source>The checks stopped because of an unexpected problem. Try again; if it happens again, save the log file for your helpdesk.</source>
        <translation>予期しない問題のため、確認が中断されました。もう一度お試しください。再び起きる場合は、ヘルプデスクに渡せるようにログファイルを保存してください。</translation>
    </message>
    <message>
        <source>Try &amp;again</source>
        <translation>もう一度試す(&amp;A)</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>もう一度試す</translation>
    </message>
    <message>
        <source>Results for %1</source>
        <translation>%1 の結果</translation>
    </message>
    <message>
        <source>Checked with the saved password.</source>
        <translation>保存されたパスワードで確認しました。</translation>
    </message>
    <message>
        <source>Checked with the saved Microsoft sign-in.</source>
        <translation>保存された Microsoft のサインイン情報で確認しました。</translation>
    </message>
    <message>
        <source>Checked without a password, so signing in itself was not tested.</source>
        <translation>パスワードなしで確認したため、サインインそのものはテストしていません。</translation>
    </message>
    <message>
        <source>All good: nothing failed and nothing needs your attention.</source>
        <translation>問題ありません。失敗した項目も、注意が必要な項目もありません。</translation>
    </message>
    <message>
        <source>About this problem</source>
        <translation>この問題について</translation>
    </message>
    <message>
        <source>Check &amp;again</source>
        <translation>もう一度確認(&amp;A)</translation>
    </message>
    <message>
        <source>Check again</source>
        <translation>もう一度確認</translation>
    </message>
    <message>
        <source>Problem: %1</source>
        <translation>問題: %1</translation>
    </message>
    <message>
        <source>Warning: %1</source>
        <translation>警告: %1</translation>
    </message>
    <message>
        <source>Note: %1</source>
        <translation>参考: %1</translation>
    </message>
    <message>
        <source>What to do: %1</source>
        <translation>対処方法: %1</translation>
    </message>
    <message>
        <source>Who can fix it: %1</source>
        <translation>対処できる人: %1</translation>
    </message>
    <message>
        <source>The summary was copied. Paste it into a chat or an email to your helpdesk.</source>
        <translation>概要をコピーしました。ヘルプデスクへのチャットやメールに貼り付けてください。</translation>
    </message>
    <message>
        <source>Save the report</source>
        <translation>レポートの保存</translation>
    </message>
    <message>
        <source>Report files (*.zip)</source>
        <translation>レポートファイル (*.zip)</translation>
    </message>
    <message>
        <source>The report was saved to %1.</source>
        <translation>レポートを %1 に保存しました。</translation>
    </message>
    <message>
        <source>The report could not be saved: %1</source>
        <translation>レポートを保存できませんでした: %1</translation>
    </message>
</context>
<context>
    <name>WelcomePage</name>
    <message>
        <source>Type your email address. We will find the right settings for it, check that they work, and set up your mail app.</source>
        <extracomment>How long typing must pause before the address is checked, in milliseconds.</extracomment>
        <translation>メールアドレスを入力してください。適切な設定を探し、正しく動作することを確認してから、メールアプリを設定します。</translation>
    </message>
    <message>
        <source>name@example.com</source>
        <translation>name@example.com</translation>
    </message>
    <message>
        <source>Email address</source>
        <translation>メールアドレス</translation>
    </message>
    <message>
        <source>&amp;Email address:</source>
        <translation>メールアドレス(&amp;E):</translation>
    </message>
    <message>
        <source>Optional</source>
        <translation>省略可</translation>
    </message>
    <message>
        <source>Your name</source>
        <translation>名前</translation>
    </message>
    <message>
        <source>The name people see when you send them mail. You can leave it empty.</source>
        <translation>メールを送ったときに相手に表示される名前です。空欄のままでもかまいません。</translation>
    </message>
    <message>
        <source>Your &amp;name:</source>
        <translation>名前(&amp;N):</translation>
    </message>
    <message>
        <source>Something stopped working? Get help</source>
        <translation>うまく動かなくなった場合のヘルプ</translation>
    </message>
    <message>
        <source>Something stopped working, or I am from the helpdesk</source>
        <translation>うまく動かなくなった場合、またはヘルプデスクの方はこちら</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>設定</translation>
    </message>
    <message>
        <source>Did you mean %1?</source>
        <translation>%1 ではありませんか？</translation>
    </message>
</context>
<context>
    <name>WizardPage</name>
    <message>
        <source>Continue</source>
        <translation>続ける</translation>
    </message>
    <message>
        <source>What to do: %1</source>
        <translation>対処方法: %1</translation>
    </message>
</context>
<context>
    <name>WizardWindow</name>
    <message>
        <source>Mail Setup Wizard</source>
        <extracomment>The stages on the side, and the steps each covers.</extracomment>
        <translation>Mail Setup Wizard</translation>
    </message>
    <message>
        <source>Your address</source>
        <translation>メールアドレス</translation>
    </message>
    <message>
        <source>Find settings</source>
        <translation>設定の検索</translation>
    </message>
    <message>
        <source>Mail app</source>
        <translation>メールアプリ</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>サインイン</translation>
    </message>
    <message>
        <source>Check</source>
        <translation>確認</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完了</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>手順</translation>
    </message>
    <message>
        <source>&amp;Back</source>
        <translation>戻る(&amp;B)</translation>
    </message>
    <message>
        <source>Back</source>
        <translation>戻る</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <source>Page</source>
        <translation>ページ</translation>
    </message>
    <message>
        <source>Current step</source>
        <translation>現在の手順</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>中止</translation>
    </message>
    <message>
        <source>Stop setting up?</source>
        <translation>設定の中止</translation>
    </message>
    <message>
        <source>Stop setting up this account?</source>
        <translation>このアカウントの設定を中止しますか？</translation>
    </message>
    <message>
        <source>Nothing has been saved yet. You can start again at any time.</source>
        <translation>まだ何も保存されていません。いつでも最初からやり直せます。</translation>
    </message>
    <message>
        <source>Keep going</source>
        <translation>設定を続ける</translation>
    </message>
</context>
</TS>
