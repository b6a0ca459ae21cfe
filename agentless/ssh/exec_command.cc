#include "agentless/ssh/exec_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "broker/common/absl_fmt.h"
#include "broker/common/printable.h"

namespace portcullis::ssh {
namespace {

constexpr size_t npos = std::string_view::npos;

// One shell word after quote removal.
struct Word {
  std::string text;
  bool expansion = false;   // $x, ${x}, $(...), `...`, $'...', <(...): the text is not final
  bool glob = false;        // an unquoted * ? [ {
  bool quoted = false;      // some character was quoted or escaped
  bool assignment = false;  // NAME=value (NAME unquoted)
};

// A simple command: its words without redirections.
struct Command {
  std::vector<Word> words;
  bool redirected = false;
  std::vector<std::string> redirect_targets;  // file names, here-strings, here-doc delimiters
};

struct Lexed {
  std::vector<Command> commands;
  bool compound = false;                   // ; & | && || ( ) or a newline joined commands
  std::vector<std::string> substitutions;  // bodies of $(...), `...`, ${...}, <(...), >(...)
  bool arithmetic = false;                 // $((...)) seen
};

struct Result {
  ExecKind kind = ExecKind::kOther;
  ScpCommand scp;
  bool plain = false;
  std::string reason;
};

Result Other() { return {}; }
Result Uncertain(std::string reason) {
  Result r;
  r.kind = ExecKind::kUncertain;
  r.reason = std::move(reason);
  return r;
}

// The text names scp, sftp or rsync somewhere (quotes and backslashes
// ignored): a program that runs other programs may be starting one.
bool Mentions(std::string_view s) {
  std::string t;
  t.reserve(s.size());
  for (char c : s)
    if (c != '\'' && c != '"' && c != '\\') t += c;
  return t.find("scp") != npos || t.find("sftp") != npos || t.find("rsync") != npos;
}

bool IsNameChar(char c, bool first) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9');
}

// Index of the ')' closing the '(' just before s[i], or npos.
size_t MatchClose(std::string_view s, size_t i, char open, char close) {
  int depth = 1;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\') {
      ++i;
    } else if (c == '\'') {
      i = s.find('\'', i + 1);
      if (i == npos) return npos;
    } else if (c == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i)
        if (s[i] == '\\') ++i;
      if (i >= s.size()) return npos;
    } else if (c == '`') {
      for (++i; i < s.size() && s[i] != '`'; ++i)
        if (s[i] == '\\') ++i;
      if (i >= s.size()) return npos;
    } else if (c == open) {
      ++depth;
    } else if (c == close && --depth == 0) {
      return i;
    }
  }
  return npos;
}

// Index of the backtick closing the one just before s[i], or npos.
size_t MatchBacktick(std::string_view s, size_t i) {
  for (; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '`') {
      return i;
    }
  }
  return npos;
}

absl::Status LexError(std::string_view why) { return absl::InvalidArgumentError(std::string(why)); }

class Lexer {
 public:
  Lexer(std::string_view s, Lexed* out) : s_(s), out_(out) {}

  absl::Status Run() {
    for (i_ = 0; i_ < s_.size(); ++i_) {
      const char c = s_[i_];
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t' && c != '\n') || u == 0x7f) return LexError("control character");
      if (c == ' ' || c == '\t') {
        EndWord();
      } else if (c == '\n') {
        EndCommand(true);
      } else if (c == '#' && !in_word_) {
        const size_t nl = s_.find('\n', i_);
        i_ = (nl == npos ? s_.size() : nl) - 1;
      } else if (c == '\\') {
        if (i_ + 1 == s_.size()) return LexError("trailing backslash");
        if (s_[++i_] != '\n') Literal(s_[i_], true);
      } else if (c == '\'') {
        const size_t e = s_.find('\'', i_ + 1);
        if (e == npos) return LexError("unbalanced quote");
        StartQuoted();
        word_.text.append(s_.substr(i_ + 1, e - i_ - 1));
        i_ = e;
      } else if (c == '"') {
        if (auto st = DoubleQuoted(); !st.ok()) return st;
      } else if (c == '$') {
        if (auto st = Dollar(); !st.ok()) return st;
      } else if (c == '`') {
        if (auto st = Backtick(); !st.ok()) return st;
      } else if ((c == '<' || c == '>') && i_ + 1 < s_.size() && s_[i_ + 1] == '(') {
        const size_t e = MatchClose(s_, i_ + 2, '(', ')');
        if (e == npos) return LexError("unbalanced process substitution");
        out_->substitutions.emplace_back(s_.substr(i_ + 2, e - i_ - 2));
        Expansion();
        i_ = e;
      } else if (c == '<' || c == '>' || (c == '&' && i_ + 1 < s_.size() && s_[i_ + 1] == '>')) {
        Redirection();
      } else if (c == ';' || c == '&' || c == '|' || c == '(' || c == ')') {
        EndCommand(true);
        if (i_ + 1 < s_.size() && (s_[i_ + 1] == c || (c == '|' && s_[i_ + 1] == '&'))) ++i_;
      } else {
        if (c == '=' && in_word_ && assign_possible_ && !word_.text.empty()) {
          word_.assignment = true;
          assign_possible_ = false;
        } else if (!IsNameChar(c, word_.text.empty())) {
          assign_possible_ = false;
        }
        if (c == '*' || c == '?' || c == '[' || c == '{') word_.glob = true;
        word_.text += c;
        in_word_ = true;
      }
    }
    EndCommand(false);
    return absl::OkStatus();
  }

 private:
  void Literal(char c, bool quoted) {
    if (quoted) StartQuoted();
    word_.text += c;
    in_word_ = true;
  }
  void StartQuoted() {
    word_.quoted = true;
    in_word_ = true;
    if (!word_.assignment) assign_possible_ = false;
  }
  void Expansion() {
    word_.expansion = true;
    in_word_ = true;
    if (!word_.assignment) assign_possible_ = false;
  }

  // At '"': the string up to its closing quote.
  absl::Status DoubleQuoted() {
    StartQuoted();
    for (++i_; i_ < s_.size() && s_[i_] != '"'; ++i_) {
      const char c = s_[i_];
      if (c == '\\' && i_ + 1 < s_.size() &&
          (s_[i_ + 1] == '$' || s_[i_ + 1] == '`' || s_[i_ + 1] == '"' || s_[i_ + 1] == '\\' ||
           s_[i_ + 1] == '\n')) {
        if (s_[++i_] != '\n') word_.text += s_[i_];
      } else if (c == '$') {
        if (auto st = Dollar(); !st.ok()) return st;
      } else if (c == '`') {
        if (auto st = Backtick(); !st.ok()) return st;
      } else {
        word_.text += c;
      }
    }
    if (i_ >= s_.size()) return LexError("unbalanced quote");
    return absl::OkStatus();
  }

  // At '$': an expansion. $'...' and $"..." only mark the word (their
  // quotes are read next as ordinary quotes).
  absl::Status Dollar() {
    Expansion();
    if (i_ + 1 >= s_.size()) return absl::OkStatus();
    const char n = s_[i_ + 1];
    if (n == '(' || n == '{') {
      const size_t e = MatchClose(s_, i_ + 2, n, n == '(' ? ')' : '}');
      if (e == npos) return LexError("unbalanced $( or ${");
      const std::string_view body = s_.substr(i_ + 2, e - i_ - 2);
      // $((...)) is arithmetic, not a command: it runs nothing unless it
      // holds a substitution (then read as a command, which errs towards
      // refusing) or evaluates a variable whose subscript runs one (see
      // Classify).
      const bool arithmetic = n == '(' && body.size() >= 2 && body.front() == '(' &&
                              body.back() == ')';
      out_->arithmetic |= arithmetic;
      if (!arithmetic || body.find("$(") != npos || body.find('`') != npos)
        out_->substitutions.emplace_back(body);
      i_ = e;
    } else if (IsNameChar(n, true)) {
      while (i_ + 1 < s_.size() && IsNameChar(s_[i_ + 1], false)) ++i_;
    } else if (n != '\'' && n != '"' && n != ' ' && n != '\t' && n != '\n') {
      ++i_;  // $1 $@ $? $$ ...
    }
    return absl::OkStatus();
  }

  absl::Status Backtick() {
    const size_t e = MatchBacktick(s_, i_ + 1);
    if (e == npos) return LexError("unbalanced backtick");
    out_->substitutions.emplace_back(s_.substr(i_ + 1, e - i_ - 1));
    Expansion();
    i_ = e;
    return absl::OkStatus();
  }

  // At '<', '>' or "&>": the operator; the next word is its target.
  void Redirection() {
    const bool io_number = in_word_ && !word_.quoted && !word_.expansion && !word_.text.empty() &&
                           std::all_of(word_.text.begin(), word_.text.end(),
                                       [](char c) { return c >= '0' && c <= '9'; });
    if (io_number) {
      word_ = Word{};
      in_word_ = false;
      assign_possible_ = true;
    } else {
      EndWord();
    }
    while (i_ + 1 < s_.size() && std::string_view("<>&|-").find(s_[i_ + 1]) != npos) ++i_;
    cmd_.redirected = true;
    redirect_target_ = true;
  }

  void EndWord() {
    if (!in_word_) return;
    if (redirect_target_) {
      redirect_target_ = false;
      cmd_.redirect_targets.push_back(std::move(word_.text));
    } else {
      cmd_.words.push_back(std::move(word_));
    }
    word_ = Word{};
    in_word_ = false;
    assign_possible_ = true;
  }

  void EndCommand(bool by_operator) {
    EndWord();
    redirect_target_ = false;
    if (!cmd_.words.empty() || cmd_.redirected) out_->commands.push_back(std::move(cmd_));
    cmd_ = Command{};
    if (by_operator) out_->compound = true;
  }

  std::string_view s_;
  Lexed* out_;
  size_t i_ = 0;
  Word word_;
  Command cmd_;
  bool in_word_ = false;
  bool assign_possible_ = true;
  bool redirect_target_ = false;
};

std::string_view Basename(std::string_view p) {
  const size_t slash = p.rfind('/');
  return slash == npos ? p : p.substr(slash + 1);
}

template <size_t N>
bool OneOf(std::string_view s, const std::string_view (&names)[N]) {
  return std::find(std::begin(names), std::end(names), s) != std::end(names);
}

bool IsShell(std::string_view b) {
  static constexpr std::string_view kShells[] = {
      "sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "csh", "tcsh", "fish", "rbash"};
  return OneOf(b, kShells);
}

// Programs that run other programs in ways this reader does not follow
// (privilege tools, xargs, find -exec, interpreters, onward ssh ...).
bool IsOpaqueRunner(std::string_view b) {
  static constexpr std::string_view kRunners[] = {
      "sudo",    "doas",      "su",      "runuser", "chroot",  "xargs",      "find",
      "flock",   "strace",    "ltrace",  "watch",   "script",  "unbuffer",   "nsenter",
      "setpriv", "setarch",   "eval",    "source",  ".",       "perl",       "python",
      "python3", "ruby",      "awk",     "gawk",    "mawk",    "php",        "node",
      "lua",     "tclsh",     "expect",  "taskset", "chrt",    "sg",         "unshare",
      "socat",   "ssh",       "sshpass", "parallel", "systemd-run", "fakeroot", "valgrind",
      "gdb",     "coproc"};
  return OneOf(b, kRunners);
}

bool WordsMention(const std::vector<Word>& w, size_t from) {
  for (size_t k = from; k < w.size(); ++k)
    if (Mentions(w[k].text)) return true;
  return false;
}

Result Opaque(const std::vector<Word>& w, size_t at) {
  if (!WordsMention(w, at + 1)) return Other();
  return Uncertain(fmt::format("{} may run a file-transfer program the broker cannot audit",
                               Printable(w[at].text, 40)));
}

// How a wrapper's options look: letters alone, letters taking an argument,
// letters after which no command follows, long options taking an argument.
struct WrapperSpec {
  std::string_view name;
  std::string_view flags;
  std::string_view flags_with_arg;
  std::string_view no_command;  // e.g. command -v
  std::string_view opaque;      // e.g. env -S (splits a string itself)
  std::string_view long_with_arg;  // space separated, without "--"
  std::string_view long_flags;     // space separated, without "--"
  int operands = 0;                // words before the command (timeout's DURATION)
  bool assignments = false;        // env NAME=value
};

constexpr WrapperSpec kWrappers[] = {
    {"exec", "cl", "a", "", "", "", "", 0, false},
    {"command", "p", "", "vV", "", "", "", 0, false},
    {"builtin", "", "", "", "", "", "", 0, false},
    {"env", "i0v", "uC", "", "S", "unset chdir", "ignore-environment null debug", 0, true},
    {"nice", "", "n", "", "", "adjustment", "", 0, false},
    {"nohup", "", "", "", "", "", "", 0, false},
    {"setsid", "cfw", "", "", "", "", "ctty fork wait", 0, false},
    {"time", "pvqa", "fo", "", "", "format output", "portability verbose quiet append", 0, false},
    {"stdbuf", "", "ioe", "", "", "input output error", "", 0, false},
    {"timeout", "v", "sk", "", "", "signal kill-after", "foreground preserve-status verbose", 1,
     false},
    {"ionice", "t", "cn", "pPu", "", "class classdata", "ignore", 0, false},
};

bool InList(std::string_view list, std::string_view name) {
  while (!list.empty()) {
    const size_t sp = list.find(' ');
    if (list.substr(0, sp) == name) return true;
    if (sp == npos) break;
    list.remove_prefix(sp + 1);
  }
  return false;
}

enum class Skip { kCommand, kNoCommand, kOpaque };

// Skips a wrapper's options and operands; *j = the wrapped command's index.
Skip SkipWrapper(const WrapperSpec& spec, const std::vector<Word>& w, size_t* j) {
  size_t k = *j + 1;
  while (k < w.size()) {
    const std::string& t = w[k].text;
    if (w[k].expansion) return Skip::kOpaque;
    if (t == "--") {
      ++k;
      break;
    }
    if (spec.name == "env" && t == "-") {
      ++k;
      continue;
    }
    if (t.size() < 2 || t[0] != '-') break;
    if (t.starts_with("--")) {
      std::string_view name = std::string_view(t).substr(2);
      const size_t eq = name.find('=');
      const std::string_view key = name.substr(0, eq);
      if (spec.name == "env" && key == "split-string") return Skip::kOpaque;
      if (InList(spec.long_with_arg, key)) {
        k += eq == npos ? 2 : 1;
      } else if (InList(spec.long_flags, key) && eq == npos) {
        ++k;
      } else {
        return Skip::kOpaque;
      }
      continue;
    }
    if (spec.name == "nice" &&
        std::all_of(t.begin() + 1, t.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      ++k;  // nice -10
      continue;
    }
    size_t extra = 0;
    for (size_t p = 1; p < t.size(); ++p) {
      const char c = t[p];
      if (spec.no_command.find(c) != npos) return Skip::kNoCommand;
      if (spec.opaque.find(c) != npos) return Skip::kOpaque;
      if (spec.flags.find(c) != npos) continue;
      if (spec.flags_with_arg.find(c) != npos) {
        if (p + 1 == t.size()) extra = 1;  // -n 5; else -n5
        break;
      }
      return Skip::kOpaque;
    }
    k += 1 + extra;
  }
  for (int o = 0; o < spec.operands && k < w.size(); ++o) ++k;
  if (spec.assignments) {
    while (k < w.size() && w[k].text.find('=') != npos) ++k;
  }
  // An option argument the words ran out for ("nice -n" at the end) leaves
  // no command.
  if (k >= w.size()) return Skip::kNoCommand;
  *j = k;
  return Skip::kCommand;
}

Result Classify(std::string_view text, int depth);

// sh -c STRING ...: the string is read as a command in turn.
Result Shell(const Command& c, size_t i, int depth) {
  const std::vector<Word>& w = c.words;
  size_t j = i + 1;
  bool dash_c = false;
  while (j < w.size()) {
    const std::string& t = w[j].text;
    if (t == "--" || t == "-") {
      ++j;
      break;
    }
    if (t.size() < 2 || (t[0] != '-' && t[0] != '+')) break;
    if (w[j].expansion) return Opaque(w, i);
    if (t.starts_with("--")) {
      j += (t == "--rcfile" || t == "--init-file") ? 2 : 1;
      continue;
    }
    bool arg = false;
    for (size_t p = 1; p < t.size(); ++p) {
      if (t[p] == 'c') dash_c = true;
      if (t[p] == 'o' || t[p] == 'O') arg = true;
    }
    j += arg ? 2 : 1;
  }
  // Without -c the shell reads a script or its standard input: like a
  // shell channel (see the header), unless a redirection feeds it commands
  // (sh <<< 'scp ...', sh < file) while the channel stays reachable.
  if (!dash_c || j >= w.size()) {
    for (const std::string& t : c.redirect_targets) {
      if (Mentions(t)) return Uncertain("a shell reads commands that name a file-transfer program");
    }
    return c.redirected ? Opaque(w, i) : Other();
  }
  if (w[j].expansion) {
    return Uncertain(fmt::format("{} -c runs a command computed by a shell expansion",
                                 Printable(w[i].text, 40)));
  }
  if (depth + 1 > kMaxExecNesting) return Uncertain("shell commands nested too deep");
  Result r = Classify(w[j].text, depth + 1);
  r.plain = false;
  return r;
}

bool IsReserved(const Word& w) {
  static constexpr std::string_view kWords[] = {
      "!", "{", "}", "if", "then", "else", "elif", "fi", "do", "done", "while", "until"};
  return !w.quoted && !w.expansion && OneOf(w.text, kWords);
}

bool IsComplexKeyword(const Word& w) {
  static constexpr std::string_view kWords[] = {
      "for", "case", "select", "function", "in", "esac", "[["};
  return !w.quoted && !w.expansion && OneOf(w.text, kWords);
}

Result Simple(const Command& c, int depth) {
  const std::vector<Word>& w = c.words;
  size_t i = 0;
  bool wrapped = false;
  for (;;) {
    while (i < w.size() && (IsReserved(w[i]) || w[i].assignment)) {
      ++i;
      wrapped = true;
    }
    if (i >= w.size()) return Other();
    if (IsComplexKeyword(w[i])) return Opaque(w, i);
    const Word& prog = w[i];
    if (prog.expansion || prog.glob) {
      return Uncertain(
          fmt::format("the program name \"{}\" is computed by the shell", Printable(prog.text, 60)));
    }
    const std::string_view base = Basename(prog.text);
    if (base == "scp") {
      std::vector<std::string> argv;
      std::string shown;
      for (size_t k = i; k < w.size(); ++k) {
        if (w[k].expansion) return Uncertain("scp arguments use shell expansions");
        argv.push_back(w[k].text);
        if (!shown.empty()) shown += ' ';
        shown += w[k].text;
      }
      auto sc = ParseScpArgs(argv, shown);
      if (!sc.ok()) return Uncertain(std::string(sc.status().message()));
      if (c.redirected) return Uncertain("scp with a redirection");
      Result r;
      r.kind = ExecKind::kScp;
      r.scp = std::move(*sc);
      r.plain = !wrapped && prog.text == "scp";
      return r;
    }
    if (base == "sftp-server" || base == "internal-sftp") {
      if (c.redirected) return Uncertain("an SFTP server with a redirection");
      Result r;
      r.kind = ExecKind::kSftpServer;
      return r;
    }
    if (base == "rsync") return Uncertain("rsync transfers cannot be audited");
    if (IsShell(base)) return Shell(c, i, depth);
    if (base == "busybox") {
      ++i;
      wrapped = true;
      continue;
    }
    const WrapperSpec* spec = nullptr;
    for (const WrapperSpec& s : kWrappers)
      if (s.name == base) spec = &s;
    if (spec != nullptr) {
      size_t j = i;
      switch (SkipWrapper(*spec, w, &j)) {
        case Skip::kNoCommand: return Other();
        case Skip::kOpaque: return Opaque(w, i);
        case Skip::kCommand: break;
      }
      i = j;
      wrapped = true;
      continue;
    }
    if (IsOpaqueRunner(base)) return Opaque(w, i);
    return Other();
  }
}

Result Classify(std::string_view text, int depth) {
  if (text.size() > kMaxExecCommandLength) {
    return Mentions(text) ? Uncertain("command too long to be read") : Other();
  }
  Lexed lx;
  if (auto st = Lexer(text, &lx).Run(); !st.ok()) {
    return Mentions(text) ? Uncertain(fmt::format("the command cannot be read: {}", st.message()))
                          : Other();
  }
  for (const std::string& sub : lx.substitutions) {
    if (depth + 1 > kMaxExecNesting) {
      if (Mentions(sub)) return Uncertain("shell commands nested too deep");
      continue;
    }
    if (Classify(sub, depth + 1).kind != ExecKind::kOther || Mentions(sub)) {
      return Uncertain("a command substitution may run a file-transfer program");
    }
  }
  if (lx.arithmetic && Mentions(text)) {
    return Uncertain("an arithmetic expansion in a command that names a file-transfer program");
  }
  Result found;
  int transfers = 0;
  for (const Command& c : lx.commands) {
    Result r = Simple(c, depth);
    if (r.kind == ExecKind::kUncertain) return r;
    if (r.kind != ExecKind::kOther) {
      ++transfers;
      found = std::move(r);
    }
  }
  if (transfers == 0) return Other();
  if (transfers > 1 || lx.compound || lx.commands.size() != 1) {
    return Uncertain("a file-transfer program combined with other shell commands");
  }
  return found;
}

}  // namespace

const char* ExecKindName(ExecKind k) {
  switch (k) {
    case ExecKind::kOther: return "other";
    case ExecKind::kScp: return "scp";
    case ExecKind::kSftpServer: return "sftp-server";
    case ExecKind::kUncertain: return "uncertain";
  }
  return "unknown";
}

ExecCommand ClassifyExecCommand(std::string_view command) {
  Result r = Classify(command, 0);
  ExecCommand out;
  out.kind = r.kind;
  out.scp = std::move(r.scp);
  out.plain = r.kind == ExecKind::kScp && r.plain;
  out.reason = std::move(r.reason);
  return out;
}

}  // namespace portcullis::ssh
