"""Full-text search in Danish across cases, events, agenda items, consultations and attachments.

`extract` reads an attachment's text, `terms` the Danish words (stems, stop words, the query's
syntax), `index` keeps the search documents in step with every flush, `operations` writes them
and rebuilds the whole index, `queries` searches within what the access policy lets a user see,
`views` is the page and `api` the endpoint. docs/search.md explains the design.
"""
