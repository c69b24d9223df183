"""The SOQL subset grammar, as one LALR grammar for lark.

Anything outside this grammar fails to parse, and that failure becomes MALFORMED_QUERY:
the engine must never return rows for a query it only half understood. Keywords are
case-insensitive string terminals; because `NAME` carries the same `i` flag, lark matches
a whole identifier first and only then re-types it as a keyword, so `Selected__c` is a
name and never `SELECT` followed by `ed__c`.
"""

from __future__ import annotations

from lark import Lark

GRAMMAR = r"""
start: "SELECT"i select_list "FROM"i object_name where? order_by? limit? offset?

select_list: COUNT "(" ")"                      -> select_count
           | field ("," field)*                 -> select_fields

object_name: NAME
field: NAME ("." NAME)*

where: "WHERE"i condition
?condition: and_chain | or_chain | term
and_chain: term ("AND"i term)+
or_chain: term ("OR"i term)+
?term: NOT term                                 -> negation
     | "(" condition ")"
     | comparison

?comparison: field COMP_OP value                -> compare
           | field "IN"i "(" value_list ")"     -> in_list
           | field NOT "IN"i "(" value_list ")" -> not_in_list
           | field "IN"i "(" semi_join ")"      -> in_semi_join
           | field NOT "IN"i "(" semi_join ")"  -> not_in_semi_join
           | field "LIKE"i value                -> like
           | field "INCLUDES"i "(" value_list ")" -> includes
           | field "EXCLUDES"i "(" value_list ")" -> excludes

semi_join: "SELECT"i field "FROM"i object_name where?

value_list: value ("," value)*
?value: STRING                                  -> string
      | NUMBER                                  -> number
      | DATETIME                                -> datetime
      | DATE                                    -> date
      | NULL                                    -> null
      | TRUE                                    -> true
      | FALSE                                   -> false
      | NAME                                    -> date_literal
      | NAME ":" INT                            -> date_literal_n

order_by: "ORDER"i "BY"i order_item ("," order_item)*
order_item: field DIRECTION? nulls?
nulls: "NULLS"i NULLS_POSITION

limit: "LIMIT"i INT
offset: "OFFSET"i INT

COUNT: "COUNT"i
NOT: "NOT"i
NULL: "NULL"i
TRUE: "TRUE"i
FALSE: "FALSE"i
DIRECTION: "ASC"i | "DESC"i
NULLS_POSITION: "FIRST"i | "LAST"i

COMP_OP: /<=|>=|<>|!=|=|<|>/
NAME: /[a-z_][a-z0-9_]*/i
STRING: /'(?:[^'\\]|\\.)*'/s
DATETIME.3: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})/
DATE.2: /\d{4}-\d{2}-\d{2}/
NUMBER.1: /[+-]?\d+(?:\.\d+)?/
INT: /\d+/

%import common.WS
%ignore WS
"""

PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)
