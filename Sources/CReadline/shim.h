#include <stdio.h>
#include <readline/readline.h>
#include <readline/history.h>

/* Accessors for readline's global variables, so Swift code calls functions instead of touching C globals. */

/* The completion entry point readline calls on TAB. */
typedef char **(*sv2_rl_completion_function)(const char *text, int start, int end);

static inline void sv2_rl_configure(const char *name, sv2_rl_completion_function completion) {
    rl_readline_name = name;
    rl_attempted_completion_function = completion;
}

/* Tells readline not to fall back to file name completion. */
static inline void sv2_rl_completion_over(void) { rl_attempted_completion_over = 1; }

/* The character appended after a unique completion (0 for none). */
static inline void sv2_rl_set_completion_append_character(int character) { rl_completion_append_character = character; }

/* The line being edited. */
static inline const char *sv2_rl_line_buffer(void) { return rl_line_buffer; }
