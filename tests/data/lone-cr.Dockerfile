FROM alpine
RUN echo ab
LABEL a=b
CMD x