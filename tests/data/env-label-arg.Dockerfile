FROM alpine
ENV A 1
ENV B=2 C="3 4"
ENV D  five six
LABEL "com.example.vendor"="ACME Inc" version=1.0
ARG X
ARG Y=1 Z
