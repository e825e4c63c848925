/* A calculator whose errors unwind with longjmp: each line is parsed by recursive
 * descent (+ - * / % and parentheses, integers), and a syntax error, a division by zero
 * or an overflow longjmps from deep in the parser back to the line's setjmp, which
 * reports it and goes on with the next line. A nested setjmp (a "?" retry of a
 * division by zero as 0) shows jumps that pass one handler for another. The exit code
 * is the number of lines that failed. Built by scripts/build_sjlj.sh. */
#include "rt.h"

static const char *lines[] = {
    "1 + 2 * 3",
    "(1 + 2) * 3",
    "100 / (5 - 5)",
    "7 % 3 + 10 / 4",
    "2 * (3 + (4 - 1)) * -2",
    "(((1)))) + 1",
    "12 / 0 ? + 5",
    "9223372036854775807 + 1",
    "-(-(-8)) * 3",
    "4 + ",
    "((2 + 3) * (7 - 2)) / 5 - 6 % 4",
};

static const char *at;
static jmp_buf line_env;
static jmp_buf *retry_env;
static const char *error;

_Noreturn static void fail(const char *why, int code) {
  error = why;
  longjmp(line_env, code);
}

static void skip(void) {
  while (*at == ' ')
    at++;
}

static long long expr(void);

static long long number(void) {
  long long v = 0;
  if (*at < '0' || *at > '9')
    fail("number expected", 1);
  while (*at >= '0' && *at <= '9') {
    int d = *at++ - '0';
    if (v > (9223372036854775807LL - d) / 10)
      fail("number too large", 3);
    v = v * 10 + d;
  }
  return v;
}

static long long primary(void) {
  skip();
  if (*at == '(') {
    at++;
    long long v = expr();
    skip();
    if (*at != ')')
      fail("')' expected", 1);
    at++;
    return v;
  }
  if (*at == '-') {
    at++;
    return -primary();
  }
  return number();
}

static long long term(void) {
  long long v = primary();
  for (;;) {
    skip();
    char op = *at;
    if (op != '*' && op != '/' && op != '%')
      return v;
    at++;
    long long w = primary();
    if (op == '*') {
      v = v * w;
    } else if (w == 0) {
      if (retry_env)
        longjmp(*retry_env, 2);  /* to the retry handler, past the line's */
      fail("division by zero", 2);
    } else {
      v = op == '/' ? v / w : v % w;
    }
  }
}

static long long expr(void) {
  long long v = term();
  for (;;) {
    skip();
    char op = *at;
    if (op != '+' && op != '-')
      return v;
    at++;
    long long w = term();
    if (op == '+' && ((w > 0 && v > 9223372036854775807LL - w) ||
                      (w < 0 && v < -9223372036854775807LL - 1 - w)))
      fail("overflow", 3);
    v = op == '+' ? v + w : v - w;
  }
}

/* A line ending in "?" is evaluated with division by zero retried as 0. */
static long long with_retry(const char *text) {
  jmp_buf env;
  const char *q = text;
  while (*q && *q != '?')
    q++;
  if (!*q)
    return expr();
  retry_env = &env;
  if (setjmp(env)) {
    retry_env = 0;
    put("  (retried: division by zero as 0)\n");
    at = q + 1;  /* the rest of the line, from the retried value 0: "+ 5" */
    skip();
    if (*at != '+')
      fail("'+' expected after '?'", 1);
    at++;
    return expr();
  }
  long long v = expr();
  retry_env = 0;
  return v;
}

int main(void) {
  int failed = 0;
  for (unsigned i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    const char *volatile text = lines[i];
    put(text);
    put(" = ");
    int code = setjmp(line_env);
    if (code) {
      retry_env = 0;
      put("error ");
      put_long(code);
      put(": ");
      put(error);
      put("\n");
      failed++;
      continue;
    }
    at = text;
    long long v = with_retry(text);
    skip();
    if (*at)
      fail("unexpected text", 1);
    put_long(v);
    put("\n");
  }
  put("failed: ");
  put_long(failed);
  put("\n");
  return failed;
}
