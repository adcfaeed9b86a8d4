/*-------------------------------------------------------------------------
 *
 * source.c
 *	  A `source` argument into FROM-clause text, checked before it runs.
 *
 * A source is embedded in SQL that clv builds (FROM (source) AS s), so a
 * text that is not exactly one query could end that subquery and start
 * statements of its own; read-only SPI stops writes, but not a second
 * SELECT with other columns (which once made K-Means read past a tuple
 * descriptor).  The raw parser decides: one SelectStmt, nothing else.
 *
 * Tier: glue (fmgr, SPI and PostgreSQL types around the math and core files).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "parser/scansup.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"

#include "source.h"

PG_FUNCTION_INFO_V1(clv_source_sql);

#define SOURCE_HINT "A source is a table or view name, or one read-only query: SELECT, VALUES, TABLE or WITH ... SELECT."

/*
 * A syntax error in the source points into the source, not into the
 * caller's statement (as SPI does for the queries it runs).
 */
static void
source_error_callback(void *arg)
{
	const char *source = arg;
	int			pos = geterrposition();

	if (pos > 0)
	{
		errposition(0);
		internalerrposition(pos);
		internalerrquery(source);
	}
	else
		errcontext("source \"%s\"", source);
}

static void source_reject(const char *what) pg_attribute_noreturn();

static void
source_reject(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_SYNTAX_ERROR),
			 errmsg("source must be one read-only query, not %s", what),
			 errhint(SOURCE_HINT)));
}

static const char *
lock_strength_name(LockClauseStrength s)
{
	switch (s)
	{
		case LCS_FORKEYSHARE:
			return "FOR KEY SHARE";
		case LCS_FORSHARE:
			return "FOR SHARE";
		case LCS_FORNOKEYUPDATE:
			return "FOR NO KEY UPDATE";
		default:
			return "FOR UPDATE";
	}
}

/*
 * Every SELECT in the tree (set operations, WITH, subqueries in FROM and
 * in expressions): no INTO, no row locks, WITH queries only SELECTs.  The
 * raw-tree walker is the one the parser itself uses on WITH queries, so
 * it knows every node a SELECT can hold.
 */
static bool
source_check_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	check_stack_depth();
	if (IsA(node, SelectStmt))
	{
		SelectStmt *s = (SelectStmt *) node;

		if (s->intoClause != NULL)
			source_reject("SELECT INTO");
		if (s->lockingClause != NIL)
			source_reject(psprintf("a query with a locking clause (%s)",
								   lock_strength_name(linitial_node(LockingClause,
																	s->lockingClause)->strength)));
	}
	else if (IsA(node, CommonTableExpr))
	{
		Node	   *q = ((CommonTableExpr *) node)->ctequery;

		if (q != NULL && !IsA(q, SelectStmt))
			source_reject(psprintf("a query with a data-modifying WITH query (%s)",
								   GetCommandTagName(CreateCommandTag(q))));
	}
	return raw_expression_tree_walker(node, source_check_walker, context);
}

/*
 * The query text of a source that is a query: exactly one statement, a
 * SelectStmt, checked as above; returns the statement without whatever
 * follows it (a trailing semicolon, whitespace, comments).
 */
static char *
source_query_text(const char *source)
{
	ErrorContextCallback errcb;
	List	   *stmts;
	RawStmt    *raw;
	int			len;

	errcb.callback = source_error_callback;
	errcb.arg = (void *) source;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	stmts = raw_parser(source, RAW_PARSE_DEFAULT);
	if (list_length(stmts) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("source is empty"),
				 errhint(SOURCE_HINT)));
	if (list_length(stmts) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("source must be one query, not %d statements", list_length(stmts)),
				 errdetail("The second statement starts at character %d.",
						   lsecond_node(RawStmt, stmts)->stmt_location + 1),
				 errhint(SOURCE_HINT)));
	raw = linitial_node(RawStmt, stmts);
	if (!IsA(raw->stmt, SelectStmt))
		source_reject(GetCommandTagName(CreateCommandTag(raw->stmt)));
	source_check_walker(raw->stmt, NULL);

	error_context_stack = errcb.previous;

	/* stmt_len 0 means "to the end of the string" */
	len = raw->stmt_len > 0 ? raw->stmt_len : (int) strlen(source) - raw->stmt_location;
	return pnstrdup(source + raw->stmt_location, len);
}

/* Characters of an unquoted identifier, as the SQL scanner has them. */
static bool
ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool
ident_cont(unsigned char c)
{
	return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/*
 * Text that reads as a possibly qualified name (identifiers, quoted or
 * not, separated by dots, with optional whitespace) is a relation;
 * anything else is a query.
 */
static bool
source_is_name(const char *source)
{
	const unsigned char *p = (const unsigned char *) source;

	for (;;)
	{
		while (scanner_isspace(*p))
			p++;
		if (*p == '"')
		{
			for (p++;; p++)
			{
				if (*p == '\0')
					return false;
				if (*p == '"')
				{
					if (p[1] != '"')
						break;
					p++;
				}
			}
			p++;
		}
		else if (ident_start(*p))
		{
			while (ident_cont(*p))
				p++;
		}
		else
			return false;
		while (scanner_isspace(*p))
			p++;
		if (*p == '\0')
			return true;
		if (*p != '.')
			return false;
		p++;
	}
}

char *
clv_source_from_clause(const char *source, Oid *relid)
{
	List	   *names;
	Oid			oid;
	char		relkind;
	StringInfoData buf;

	if (relid)
		*relid = InvalidOid;
	if (source_is_name(source))
	{
		names = stringToQualifiedNameList(source);
		oid = RangeVarGetRelid(makeRangeVarFromNameList(names), AccessShareLock, true);
		if (!OidIsValid(oid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation \"%s\" does not exist", source),
					 errhint(SOURCE_HINT)));
		relkind = get_rel_relkind(oid);
		if (relkind != RELKIND_RELATION && relkind != RELKIND_VIEW &&
			relkind != RELKIND_MATVIEW && relkind != RELKIND_FOREIGN_TABLE &&
			relkind != RELKIND_PARTITIONED_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("source \"%s\" is not a table or view", source),
					 errhint(SOURCE_HINT)));
		if (relid)
			*relid = oid;
		return quote_qualified_identifier(get_namespace_name(get_rel_namespace(oid)),
										  get_rel_name(oid));
	}

	/*
	 * The newline ends a "--" comment at the end of the query, which would
	 * otherwise swallow the closing parenthesis.
	 */
	initStringInfo(&buf);
	appendStringInfo(&buf, "(%s\n)", source_query_text(source));
	return buf.data;
}

/*
 * clv_source_sql(source) -> text: the FROM-clause text of a source, for
 * the PL/pgSQL functions that read one (append an alias).
 */
Datum
clv_source_sql(PG_FUNCTION_ARGS)
{
	char	   *source = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_TEXT_P(cstring_to_text(clv_source_from_clause(source, NULL)));
}
