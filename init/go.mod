module shellfree/init

go 1.23
