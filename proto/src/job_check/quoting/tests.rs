use super::*;

fn contexts(language: Language, source: &str) -> Vec<Context> {
    let units = units(source).unwrap();
    let (found, flow) = match language {
        Language::Shell => scan(shell::Shell::default(), &units),
        Language::PowerShell => scan(powershell::PowerShell::default(), &units),
        Language::Cmd => scan(cmd::Cmd::default(), &units),
    };
    assert!(flow.is_empty(), "{source}: {flow:?}");
    found.iter().map(|f| f.context).collect()
}

fn accepted(language: Language, sources: &[&str]) {
    for source in sources {
        assert_eq!(
            check_quoting(language, source),
            Vec::<String>::new(),
            "{source}"
        );
    }
}

fn refused(language: Language, cases: &[(&str, Context)]) {
    for (source, context) in cases {
        assert_eq!(contexts(language, source), [*context], "{source}");
    }
}

#[test]
fn the_table_names_every_quoted_command_field() {
    assert_eq!(language_of("ssh.exec", "command"), Some(Language::Shell));
    assert_eq!(language_of("local.exec", "command"), Some(Language::Shell));
    assert_eq!(
        language_of("winrm.exec", "script"),
        Some(Language::PowerShell)
    );
    assert_eq!(language_of("winrm.exec", "command"), Some(Language::Cmd));
    assert_eq!(language_of("local.exec", "shell"), None);
    assert_eq!(language_of("http.post", "body"), None);
}

#[test]
fn shell_bare_words_are_accepted() {
    accepted(
        Language::Shell,
        &[
            "systemctl restart {{ svc }} --now",
            "a={{ x }}; echo \"$a\"",
            "echo \"abc\"{{ x }}\"def\" 'abc'{{ x }}'def'",
            "echo {{ x }}{{ y }} a#b {{ z }}",
            "printf '{\"build\":\"%s\"}\\n' {{ build_tag }}",
            "echo it\\'s \"say \\\"hi\\\"\" {{ x }}",
            "echo \"a\\\\\" {{ x }}",
            "echo \\\\{{ x }}",
            "echo ${HOME} $((1 + 2)) $# {{ x }}",
            "cat <<< {{ x }}; diff <(sort {{ a }}) <(sort {{ b }})",
            "echo Hello, {{ who }}, from $(hostname)",
            // A value directly in $(…) is a quoted word in code.
            "for i in $(seq {{ times }}); do echo hi {{ who }} $i; done",
            "echo \"$(cat -- {{ f }})\" `date` {{ g }}",
            "{% if a %}echo \"x\"{% elif b %}echo 'y'{% else %}true{% endif %} {{ v }}",
            "{% for h in hosts %}ping -c1 {{ h }}; {% endfor %}",
            "{# a comment {{ x }} #}echo {{ y }}",
        ],
    );
}

#[test]
fn shell_refuses_each_context() {
    use Context::*;
    refused(
        Language::Shell,
        &[
            ("echo \"{{ x }}\"", DoubleQuotes),
            ("echo \"pid: {{ x }} done\"", DoubleQuotes),
            ("echo '{{ x }}'", SingleQuotes),
            ("echo $'a{{ x }}'", AnsiC),
            ("echo `cat {{ f }}`", Backticks),
            ("echo $(( {{ n }} + 1 ))", Arithmetic),
            ("echo ${X:-{{ x }}}", Parameter),
            ("cat <<EOF\nhello {{ x }}\nEOF\n", HereDoc),
            ("cat <<-'EOF' >out\n\t{{ x }}\n\tEOF\n", HereDoc),
            ("echo ok # {{ x }}", Comment),
            ("echo \\{{ x }}", AfterBackslash),
            ("echo ${{ x }}", AfterDollar),
        ],
    );
}

#[test]
fn shell_nesting_and_escapes() {
    use Context::*;
    // The innermost context decides.
    refused(
        Language::Shell,
        &[("echo \"$(echo \"{{ x }}\")\"", DoubleQuotes)],
    );
    refused(
        Language::Shell,
        &[("echo \"$(echo '{{ x }}')\"", SingleQuotes)],
    );
    refused(Language::Shell, &[("echo \"`echo {{ x }}`\"", Backticks)]);
    refused(
        Language::Shell,
        &[("echo $(cat \"{{ x }}\")", DoubleQuotes)],
    );
    accepted(Language::Shell, &["echo \"${X:-$(echo {{ x }})}\""]);
    // An escaped quote does not end the string; an escaped backslash does
    // not escape it.
    refused(
        Language::Shell,
        &[("echo \"a \\\" {{ x }}\"", DoubleQuotes)],
    );
    accepted(Language::Shell, &["echo 'a\\' {{ x }} '\\'"]);
    // A value after the end of a here-document is in code again; the
    // delimiter counts only on a line of its own.
    accepted(
        Language::Shell,
        &[
            "cat <<EOF | grep x\nEOF not yet\n  EOF\nEOF\necho {{ x }}",
            "cat <<-EOF\n\tbody\n\tEOF\necho {{ x }}",
        ],
    );
    refused(
        Language::Shell,
        &[("cat <<EOF\nEOF x\n{{ x }}\nEOF\n", HereDoc)],
    );
    // A value as the delimiter: the end cannot be known.
    let found = contexts(Language::Shell, "cat <<{{ d }}\nbody\n{{ x }}\n");
    assert_eq!(found, [HereDoc, HereDoc]);
}

#[test]
fn branches_must_agree_on_the_context() {
    refused(
        Language::Shell,
        &[(
            "{% if a %}echo \"{% else %}echo \"{% endif %}{{ v }}\"",
            Context::DoubleQuotes,
        )],
    );
    for source in [
        "{% if a %}echo \"{% endif %}{{ v }}",
        "{% for x in xs %}'{{ x }}{% endfor %}",
        "{% if a %}'{% elif b %}\"{% else %}{% endif %}",
    ] {
        let problems = check_quoting(Language::Shell, source);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("the quoting differs between the paths")),
            "{source}: {problems:?}"
        );
    }
}

#[test]
fn powershell_contexts() {
    use Context::*;
    accepted(
        Language::PowerShell,
        &[
            "Restart-Service -Name {{ svc }} -Force",
            "Write-Output \"on $env:COMPUTERNAME\"\nWrite-Output {{ x }}",
            "$v = {{ x }}; Write-Output \"got $v\" ('a' + {{ y }})",
            "'it''s' \"say \"\"hi\"\"\" \"a`\"b\" {{ x }}",
            "Write-Output \"$(Get-Item {{ p }})\" $(Get-Date) @({{ a }}, {{ b }})",
            "@\"\nhello $env:X\n\"@\nWrite-Output {{ x }}",
            "@'\nhello\n'@ | Out-File x; {{ y }}",
            "# a comment\nWrite-Output {{ x }} <# block #> {{ y }}",
            "Get-Item -Path {{ p }} -ErrorAction Stop",
        ],
    );
    refused(
        Language::PowerShell,
        &[
            ("Write-Output '{{ x }}'", PsSingle),
            ("Write-Output \u{2018}{{ x }}\u{2019}", PsSingle),
            ("Write-Output \"{{ x }}\"", PsDouble),
            ("Write-Output \u{201C}a {{ x }}\u{201D}", PsDouble),
            ("Write-Output \"a $(\"{{ x }}\")\"", PsDouble),
            ("$t = @\"\nhi {{ x }}\n\"@", PsHereString),
            ("$t = @'\n{{ x }}\n'@", PsHereString),
            ("Write-Output ${env:{{ x }}}", PsVariable),
            ("Write-Output 1 # {{ x }}", PsComment),
            ("<# {{ x }} #> Write-Output 1", PsComment),
            ("Write-Output `{{ x }}", PsAfterBacktick),
            ("Write-Output ${{ x }}", PsAfterDollar),
            ("cmd /c --% echo {{ x }}", PsStopParsing),
        ],
    );
    // An escaped quote mark does not end the string.
    refused(
        Language::PowerShell,
        &[
            ("'it''s {{ x }}'", PsSingle),
            ("\"a`\" {{ x }}\"", PsDouble),
        ],
    );
}

#[test]
fn cmd_contexts() {
    accepted(
        Language::Cmd,
        &[
            "echo {{ name }} %GREETING%",
            "dir {{ d }} /b & echo \"done\" {{ e }}",
        ],
    );
    refused(
        Language::Cmd,
        &[
            ("echo \"{{ x }}\"", Context::CmdQuotes),
            ("echo ^{{ x }}", Context::CmdAfterCaret),
        ],
    );
}

#[test]
fn messages_name_the_value_and_the_fix() {
    let problems = check_quoting(Language::Shell, "echo \"pid: {{ pid }}\"");
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].starts_with("{{ pid }} is inside double quotes"),
        "{}",
        problems[0]
    );
    assert!(
        problems[0].contains("move {{ pid }} outside the double quotes; the value is already quoted as one shell word"),
        "{}",
        problems[0]
    );
    let problems = check_quoting(Language::PowerShell, "Write-Output \"x {{ v }}\"");
    assert!(problems[0].contains("join with +"), "{}", problems[0]);
    assert!(
        check_quoting(Language::Shell, "{{ x")
            .iter()
            .any(|p| p.contains("cannot read"))
    );
}

#[test]
fn reviewer_cases_whitespace_the_shell_does_not_split_on_and_comments_after_a_paren() {
    use Context::*;
    // A no-break space is part of a word to the shell: the `'` of "don't"
    // opens a quote there, which the value would close.
    refused(
        Language::Shell,
        &[
            ("ls\u{a0}# don't\necho {{ p }}", SingleQuotes),
            ("echo $(# note {{ p }}\n)", Comment),
            ("diff <(# x {{ p }}\n) b", Comment),
        ],
    );
}

#[test]
fn powershell_hash_after_a_string_or_value_starts_a_comment() {
    refused(
        Language::PowerShell,
        &[("Write-Output {{ a }}#{{ b }}", Context::PsComment)],
    );
    accepted(Language::PowerShell, &["Write-Output a#b {{ a }}"]);
}

#[test]
fn a_cmd_line_starting_with_a_quote_or_a_value_is_refused() {
    use Context::*;
    refused(
        Language::Cmd,
        &[
            ("{{ exe }}", CmdLeadingQuote),
            ("  \"C:\\tools\\run.exe\" {{ arg }}", CmdLeadingQuote),
        ],
    );
    accepted(
        Language::Cmd,
        &["call {{ exe }} {{ arg }}", "echo {{ arg }}"],
    );
}
