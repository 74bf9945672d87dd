FROM alpine
FOO bar baz
frobnicate
run echo lower
RuN echo mixed
