; Inno Setup 6 script of the Windows installer of Mail Setup Wizard (docs/packaging.md).
;
; Build (after `python packaging\build.py`, which makes dist\mailsetup\ and build\stage\):
;   iscc /DAppVersion=1.2.3 /DAppNumericVersion=1.2.3.0 installer.iss
; Signed (the release workflow; the command comes from the environment, never from this file):
;   iscc /DSign "/Smailsetup=signtool.exe sign /fd sha256 ... $f" installer.iss
;
; Install modes: per user without administrator rights (the default; %LOCALAPPDATA%\Programs),
; or for all users with /ALLUSERS (administrator; Program Files). Silent:
;   setup.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART /LOG="%TEMP%\mailsetup-setup.log"
; IT only, with /ALLUSERS: /ORGCONFIG="path\to\config.toml" copies the organisation's
; configuration to %ProgramData%\MailSetup\config.toml.
; Uninstall keeps the user's saved accounts, settings and keyring entries unless asked:
; a question in an interactive uninstall, or /PURGE on the uninstaller's command line.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef AppNumericVersion
  #define AppNumericVersion "0.1.0.0"
#endif
#ifndef BundleDir
  #define BundleDir "dist\mailsetup"
#endif
#define AppName "Mail Setup Wizard"
#define AppExeName "mailsetup.exe"
#define AppCliName "mailsetup-cli.exe"

[Setup]
; AppId is the uninstall registry key's name ({AppId}_is1): never change it between releases
AppId={{6B0E3D52-4C1B-4F5E-9C7A-2D8E5A1F7B30}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Mail Setup Wizard
VersionInfoVersion={#AppNumericVersion}
VersionInfoProductVersion={#AppNumericVersion}
VersionInfoProductTextVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
DisableDirPage=auto
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=dist
OutputBaseFilename=MailSetupWizard-{#AppVersion}-setup
SetupIconFile=build\stage\icons\mailsetup.ico
UninstallDisplayIcon={app}\{#AppExeName}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes
RestartApplications=no
SetupLogging=yes
#ifdef Sign
SignTool=mailsetup
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"
Name: "japanese"; MessagesFile: "compiler:Languages\Japanese.isl"

[CustomMessages]
english.PurgeQuestion=Also remove your saved accounts, settings and the passwords and sign-ins kept in Windows Credential Manager?
japanese.PurgeQuestion=保存したアカウント、設定、および Windows 資格情報マネージャーに保存したパスワードとサインイン情報も削除しますか？
english.OrgConfigNeedsAdmin=/ORGCONFIG needs the all-users install (/ALLUSERS, as administrator).
japanese.OrgConfigNeedsAdmin=/ORGCONFIG を使用するには、すべてのユーザー向けのインストール (/ALLUSERS、管理者として実行) が必要です。
english.OrgConfigMissing=The organisation configuration file was not found:
japanese.OrgConfigMissing=組織の構成ファイルが見つかりません:

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExeName}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExeName}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExeName}"; Description: "{cm:LaunchProgram,{#StringChange(AppName, '&', '&&')}}"; Flags: nowait postinstall skipifsilent

[Code]
var
  OrgConfigPath: String;

{ The value of /NAME=value on the command line ('' when absent); names are case-insensitive.
  Windows has removed the quotes around a value with spaces by the time ParamStr sees it. }
function SwitchValue(const Name: String): String;
var
  I: Integer;
  Prefix: String;
begin
  Result := '';
  Prefix := '/' + Uppercase(Name) + '=';
  for I := 1 to ParamCount do
    if Pos(Prefix, Uppercase(ParamStr(I))) = 1 then
      Result := Copy(ParamStr(I), Length(Prefix) + 1, MaxInt);
end;

{ Whether /NAME is on the command line (GetCmdTail holds the whole command line). }
function SwitchGiven(const Name: String): Boolean;
begin
  Result := Pos('/' + Uppercase(Name), Uppercase(GetCmdTail)) > 0;
end;

function InitializeSetup(): Boolean;
begin
  Result := True;
  OrgConfigPath := SwitchValue('ORGCONFIG');
  if OrgConfigPath <> '' then
    Log('Organisation configuration requested: ' + OrgConfigPath);
end;

{ Refuses /ORGCONFIG outside the all-users mode, or a file that is not there, before anything
  is installed (Setup then exits with code 7). }
function PrepareToInstall(var NeedsRestart: Boolean): String;
begin
  Result := '';
  if OrgConfigPath = '' then
    Exit;
  if not IsAdminInstallMode then
    Result := CustomMessage('OrgConfigNeedsAdmin')
  else if not FileExists(OrgConfigPath) then
    Result := CustomMessage('OrgConfigMissing') + ' ' + OrgConfigPath;
  if Result <> '' then
    Log(Result);
end;

{ Copies the organisation configuration to %ProgramData%\MailSetup\config.toml (all users). }
procedure InstallOrgConfig();
var
  Folder, Target: String;
begin
  Folder := ExpandConstant('{commonappdata}\MailSetup');
  Target := Folder + '\config.toml';
  if not ForceDirectories(Folder) then
    RaiseException('cannot create ' + Folder);
  if not FileCopy(OrgConfigPath, Target, False) then
    RaiseException('cannot copy ' + OrgConfigPath + ' to ' + Target);
  Log('Organisation configuration copied to ' + Target);
end;

procedure CurStepChanged(CurStep: TSetupStep);
begin
  if (CurStep = ssPostInstall) and (OrgConfigPath <> '') and IsAdminInstallMode then
    InstallOrgConfig();
end;

{ The user's data is kept unless asked: /PURGE, or Yes to the question (default No). }
function PurgeWanted(): Boolean;
begin
  if UninstallSilent then
    Result := SwitchGiven('PURGE')
  else
    Result := SwitchGiven('PURGE') or
      (MsgBox(CustomMessage('PurgeQuestion'), mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES);
end;

{ Removes the saved accounts with their keyring secrets and the Microsoft sign-ins (through the
  program itself, while it is still installed), then the user's folders. }
procedure PurgeUserData();
var
  Cli: String;
  Code: Integer;
begin
  Cli := ExpandConstant('{app}\{#AppCliName}');
  if Exec(Cli, 'accounts remove --all', '', SW_HIDE, ewWaitUntilTerminated, Code) then
    Log(Format('accounts remove --all: exit code %d', [Code]));
  if Exec(Cli, 'signout --all', '', SW_HIDE, ewWaitUntilTerminated, Code) then
    Log(Format('signout --all: exit code %d', [Code]));
  DelTree(ExpandConstant('{userappdata}\MailSetup'), True, True, True);
  DelTree(ExpandConstant('{localappdata}\MailSetup'), True, True, True);
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usUninstall) and PurgeWanted() then
    PurgeUserData();
end;
