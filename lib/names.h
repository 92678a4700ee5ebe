/*
 * names.h - the one check of what makes a name in bgjob.
 * Pure functions; any thread.
 */
#ifndef BGJ_NAMES_H
#define BGJ_NAMES_H

/* C may start an identifier (letter or `_'); C may continue one (also a digit). */
int bgj_ident_start(int c);
int bgj_ident_char(int c);

/* S is a shell identifier: a letter or `_', then letters, digits, `_'. */
int bgj_is_identifier(const char *s);

/* S is not empty and every byte is a letter, a digit, `_' or one of EXTRA
   (e.g. "-." for callback names, which may also start with a digit). */
int bgj_is_name(const char *s, const char *extra);

#endif /* BGJ_NAMES_H */
